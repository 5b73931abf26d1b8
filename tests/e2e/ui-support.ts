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

/** Fails with a readable list when axe finds serious or critical problems on the page as shown. */
export async function expectNoSeriousA11yViolations(page: Page, screen: string): Promise<void> {
	// Every rule still runs on every node; only the violations are described node by node (axe
	// builds a selector and a snippet for every node of every result it reports, and passes are most
	// of them): the same violations, in about a fifth less time.
	// Legacy mode runs axe once in the page itself. The default runs it in every frame and then
	// merges the results in a new blank tab, injecting axe twice: on two busy cores that tab cost
	// most of each check's 1.5-3.5 s. Parley's pages have no frames, so nothing goes unchecked.
	const results = await new AxeBuilder({ page })
		.setLegacyMode()
		.options({ resultTypes: ['violations'] })
		.analyze();
	const report: string[] = [];
	for (const v of results.violations) {
		if (v.impact !== 'serious' && v.impact !== 'critical') continue;
		const nodes = v.nodes.map((node) => node.target.join(' '));
		report.push(`${v.id} (${v.impact}): ${v.help}\n    ${nodes.join('\n    ')}`);
	}
	expect(report, `accessibility problems on ${screen}`).toEqual([]);
}

/**
 * The page checked in the light theme and then in the dark one. The theme follows the system's
 * preference live (`light-dark()` in app.css), so one page serves both: switched in place, once its
 * colour transitions have ended (axe would read a colour half way).
 */
export async function expectAccessibleInBothThemes(page: Page, screen: string): Promise<void> {
	for (const colorScheme of ['light', 'dark'] as const) {
		await page.emulateMedia({ colorScheme });
		await page.evaluate(() =>
			Promise.all(
				document
					.getAnimations()
					.filter((animation) => animation instanceof CSSTransition)
					.map((animation) => animation.finished.catch(() => undefined))
			)
		);
		await expectNoSeriousA11yViolations(page, `${screen} (${colorScheme})`);
	}
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

/**
 * Opens a room's details page on one of its sections (its tabs: About unless another is named).
 * The section is in the address, as a tab click or a form's answer leaves it.
 */
export async function openDetails(
	page: Page,
	roomPath: string,
	section:
		'about' | 'members' | 'invites' | 'bots' | 'reports' | 'notifications' | 'theme' = 'about'
): Promise<void> {
	await page.goto(`${roomPath}/details?tab=${section}`);
	await expect(page.getByRole('tab', { selected: true })).toHaveAttribute(
		'aria-controls',
		`panel-${section}`
	);
}

/** A PNG drawn in the page, as bytes (base64), `w`×`h` pixels. */
export async function png(page: Page, w: number, h: number, color: string): Promise<Buffer> {
	const base64 = await page.evaluate(
		({ w, h, color }) => {
			const canvas = document.createElement('canvas');
			canvas.width = w;
			canvas.height = h;
			const context = canvas.getContext('2d')!;
			context.fillStyle = color;
			context.fillRect(0, 0, w, h);
			return canvas.toDataURL('image/png').split(',')[1]!;
		},
		{ w, h, color }
	);
	return Buffer.from(base64, 'base64');
}
