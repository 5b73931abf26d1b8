import { expect, type Page } from '@playwright/test';
import type { Persona } from './support';

/** Finds someone with the people search and opens their profile. */
export async function openProfile(page: Page, who: Persona): Promise<void> {
	await page.goto('/people');
	await page.getByRole('searchbox', { name: 'Username or name' }).fill(who.username);
	await page.getByRole('button', { name: 'Search' }).click();
	await page
		.getByRole('list', { name: 'Search results' })
		.getByRole('link', { name: new RegExp(who.username) })
		.click();
	await expect(page.getByRole('heading', { level: 1, name: who.displayName })).toBeVisible();
}

export async function sendMessage(page: Page, text: string): Promise<void> {
	await page.getByRole('textbox', { name: 'Message' }).fill(text);
	await page.getByRole('textbox', { name: 'Message' }).press('Enter');
}

export function timeline(page: Page) {
	return page.getByRole('log', { name: 'Messages' });
}
