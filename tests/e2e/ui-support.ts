import AxeBuilder from '@axe-core/playwright';
import {
	devices,
	expect,
	type Browser,
	type BrowserContextOptions,
	type Page
} from '@playwright/test';
import { register, type Persona } from './support';

export const SIZES: Record<'desktop' | 'phone', BrowserContextOptions> = {
	desktop: { viewport: { width: 1280, height: 800 } },
	phone: { ...devices['Pixel 7'] }
};

/** A signed-in page at a given screen size, in a browser context of its own. */
export async function personAt(
	browser: Browser,
	who: Persona,
	size: keyof typeof SIZES,
	options: BrowserContextOptions = {}
): Promise<Page> {
	const context = await browser.newContext({ ...SIZES[size], ...options });
	const page = await context.newPage();
	await register(page, who);
	return page;
}

/**
 * Known problems in screens this test walks but does not own, each with where it is tracked. They
 * are skipped only on the elements named, so anything new on the same screen still fails.
 */
const KNOWN: { rule: string; within: string; why: string }[] = [
	{
		rule: 'listitem',
		within: '[role="log"]',
		why: 'the room timeline is an <ol role="log">: the role drops list semantics from its <li>s (reported to the room view)'
	}
];

/** Fails with a readable list when axe finds serious or critical problems on the page as shown. */
export async function expectNoSeriousA11yViolations(page: Page, screen: string): Promise<void> {
	const results = await new AxeBuilder({ page }).analyze();
	const known = async (rule: string, target: string) => {
		const rules = KNOWN.filter((k) => k.rule === rule);
		for (const k of rules) {
			if (await page.locator(k.within).locator(target).count()) return true;
		}
		return false;
	};
	const report: string[] = [];
	for (const v of results.violations) {
		if (v.impact !== 'serious' && v.impact !== 'critical') continue;
		const nodes: string[] = [];
		for (const node of v.nodes) {
			const target = node.target.join(' ');
			if (!(await known(v.id, target))) nodes.push(target);
		}
		if (nodes.length) report.push(`${v.id} (${v.impact}): ${v.help}\n    ${nodes.join('\n    ')}`);
	}
	expect(report, `accessibility problems on ${screen}`).toEqual([]);
}

export async function createRoom(page: Page, name: string): Promise<string> {
	await page.goto('/');
	await page.getByLabel('New room').fill(name);
	await page.getByRole('button', { name: 'Create room' }).click();
	await expect(page.getByRole('heading', { name, level: 1 })).toBeVisible();
	return new URL(page.url()).pathname;
}

/** Matches a page URL by its path exactly (query and hash ignored). */
export function at(path: string): RegExp {
	const escaped = path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
	return new RegExp(`^[a-z]+://[^/]+${escaped}(?:[?#].*)?$`);
}
