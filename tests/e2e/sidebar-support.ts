import type { Locator, Page } from '@playwright/test';

/** The sidebar's conversation links, in the order a person sees them. */
export function conversationRows(page: Page): Locator {
	return page.getByRole('navigation', { name: 'Conversations' }).getByRole('link');
}

export function friendsLink(page: Page): Locator {
	return page.getByRole('navigation', { name: 'Explore' }).getByRole('link', { name: /^Friends/ });
}
