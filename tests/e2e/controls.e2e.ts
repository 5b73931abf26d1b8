// Controls in every state, in both themes: a disabled button is still read, not guessed.
import { expect, test } from '@playwright/test';
import { persona } from './support';
import { personAt } from './ui-support';

/**
 * WCAG contrast of an element's text against its own background as the browser paints them: both
 * composited at the element's opacity over the first opaque background beneath it.
 */
function contrastOf(el: Element): number {
	const rgba = (value: string) => {
		const [r = 0, g = 0, b = 0, a = 1] = (value.match(/[\d.]+/g) ?? []).map(Number);
		return [r, g, b, a] as const;
	};
	let under = [255, 255, 255];
	for (let node = el.parentElement; node; node = node.parentElement) {
		const [r, g, b, a] = rgba(getComputedStyle(node).backgroundColor);
		if (a > 0) {
			under = [r, g, b];
			break;
		}
	}
	const style = getComputedStyle(el);
	const opacity = Number(style.opacity);
	const painted = (value: string) => {
		const [r, g, b] = rgba(value);
		return [r, g, b].map((c, i) => c * opacity + under[i]! * (1 - opacity));
	};
	const luminance = (rgb: number[]) => {
		const [R, G, B] = rgb.map((c) => {
			const s = c / 255;
			return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
		});
		return 0.2126 * R! + 0.7152 * G! + 0.0722 * B!;
	};
	const fg = luminance(painted(style.color));
	const bg = luminance(painted(style.backgroundColor));
	return (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
}

for (const colorScheme of ['light', 'dark'] as const) {
	test(`the disabled Send button is legible in the ${colorScheme} theme`, async ({ browser }) => {
		const page = await personAt(browser, persona('dana'), 'desktop', { colorScheme });
		await page.getByLabel('New room').fill('Quiet room');
		await page.getByRole('button', { name: 'Create room' }).click();
		const send = page.getByRole('button', { name: 'Send' });
		await expect(send).toBeDisabled();
		expect(await send.evaluate(contrastOf)).toBeGreaterThanOrEqual(4.5);
	});
}
