import { expect, type Page } from '@playwright/test';

/** The newest link mailed to `to` with `subject`, read from the development outbox. */
export async function linkFromOutbox(page: Page, to: string, subject: string): Promise<string> {
	let href: string | null = null;
	// Some mail is sent after the response (so its timing reveals nothing): wait for it to land.
	await expect(async () => {
		await page.goto('/dev/mail');
		const mail = page
			.getByRole('article')
			.filter({ has: page.getByRole('heading', { name: subject }) })
			.filter({ hasText: to.toLowerCase() })
			.first();
		href = await mail.getByRole('link').first().getAttribute('href', { timeout: 1000 });
	}).toPass({ timeout: 15_000 });
	expect(href).toMatch(/#token=[a-z2-7]{32}$/);
	return href!;
}

export async function logIn(page: Page, login: string, password: string): Promise<void> {
	await page.goto('/login');
	await page.getByLabel('Email or username').fill(login);
	await page.getByLabel('Password').fill(password);
	await page.getByRole('button', { name: 'Log in' }).click();
}
