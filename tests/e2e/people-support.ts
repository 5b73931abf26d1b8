import { expect, type Page } from '@playwright/test';
import type { Persona } from './support';

/** Finds someone with the people search and opens their profile. */
export async function openProfile(page: Page, who: Persona): Promise<void> {
	await page.goto('/people');
	await page.getByRole('searchbox', { name: 'Username or name' }).fill(who.username);
	await page.getByRole('main').getByRole('button', { name: 'Search' }).click();
	await page
		.getByRole('list', { name: 'Search results' })
		.getByRole('link', { name: new RegExp(who.username) })
		.click();
	await expect(page.getByRole('heading', { level: 1, name: who.displayName })).toBeVisible();
}

/** `requester` asks `accepter` to be friends, and `accepter` accepts on their friends page. */
export async function befriend(
	requester: Page,
	requesterName: string,
	accepter: Page,
	accepterWho: Persona
): Promise<void> {
	await openProfile(requester, accepterWho);
	await requester.getByRole('button', { name: 'Add friend' }).click();
	// Stored before the other side looks: their friends page lists requests as it loads them.
	await expect(requester.getByRole('button', { name: 'Cancel friend request' })).toBeVisible();
	await accepter.goto('/friends');
	await accepter
		.getByRole('list', { name: 'Incoming requests' })
		.getByRole('button', { name: 'Accept' })
		.click();
	await expect(
		accepter.getByRole('list', { name: 'Friends' }).getByText(requesterName, { exact: true })
	).toBeVisible();
}

export async function sendMessage(page: Page, text: string): Promise<void> {
	await page.getByRole('textbox', { name: 'Message' }).fill(text);
	await page.getByRole('textbox', { name: 'Message' }).press('Enter');
}

export function timeline(page: Page) {
	return page.getByRole('log', { name: 'Messages' });
}
