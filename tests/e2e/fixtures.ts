import { test as base } from '@playwright/test';

export { expect } from '@playwright/test';

/**
 * Playwright's `test`, with one addition every e2e test gets: the browser contexts a test opened
 * itself (`browser.newContext()`, as most of ours do, one per person) are closed when it ends.
 * Playwright closes only the context of its own `context`/`page` fixtures; the rest stay open for
 * the life of the worker, so a whole suite left hundreds of signed-in pages holding their sockets,
 * each still running its timers and receiving presence, and every later test ran slower for them.
 */
export const test = base.extend<{ closeOwnContexts: void }>({
	closeOwnContexts: [
		async ({ browser }, use) => {
			await use();
			await Promise.all(browser.contexts().map((context) => context.close()));
		},
		{ auto: true }
	]
});
