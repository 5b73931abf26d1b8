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

/**
 * The same link as `linkFromOutbox`, read from the outbox page's HTML over the page's request
 * context instead of rendering it: for the many tests where registering is only a step.
 */
export async function mailedLink(page: Page, to: string, subject: string): Promise<string> {
	const address = `>${to.toLowerCase()}<`;
	let href: string | undefined;
	// Some mail is sent after the response (so its timing reveals nothing): wait for it to land.
	await expect
		.poll(
			async () => {
				// Without the markers Svelte leaves around text it rendered.
				const html = (await (await page.request.get('/dev/mail')).text()).replace(
					/<!--.*?-->/g,
					''
				);
				const mail = html
					.split('<article')
					.find((article) => article.includes(`>${subject}</h2>`) && article.includes(address));
				href = mail && /href="([^"]+)"/.exec(mail)?.[1];
				return href;
			},
			{ timeout: 15_000, intervals: [50, 100, 250, 500] }
		)
		.toMatch(/#token=[a-z2-7]{32}$/);
	return href!;
}

export async function logIn(page: Page, login: string, password: string): Promise<void> {
	await page.goto('/login');
	await page.getByLabel('Email or username').fill(login);
	await page.getByLabel('Password').fill(password);
	await page.getByRole('button', { name: 'Log in' }).click();
}
