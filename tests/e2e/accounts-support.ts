import type { Page } from '@playwright/test';

// One copy of the outbox reader, next to `register`, which needs it too.
export { linkFromOutbox } from './support';

export async function logIn(page: Page, login: string, password: string): Promise<void> {
	await page.goto('/login');
	await page.getByLabel('Email or username').fill(login);
	await page.getByLabel('Password').fill(password);
	await page.getByRole('button', { name: 'Log in' }).click();
}
