// Controls in every state, in both themes: a disabled button is still read, not guessed, and a
// field, a focus ring or a chosen chip stands out from what surrounds it.
import { expect, test } from './fixtures';
import type { Locator, Page } from '@playwright/test';
import { say, message } from './realtime-support';
import { persona } from './support';
import { createRoom, personAt } from './ui-support';

/** What to measure on a control; each is a WCAG minimum (1.4.3 text, 1.4.11 non-text). */
type Probe = {
	/** Its text: 4.5:1, or 3:1 when large (24px, or 18.66px bold). */
	text?: boolean;
	/** Its placeholder, as text. */
	placeholder?: boolean;
	/** Its edge (border, or its own fill) against what is around it: 3:1. */
	boundary?: boolean;
	/** Its focus ring against the colours beside it: 3:1. */
	ring?: boolean;
	/** The line that marks it chosen (a tab's underline): 3:1 against what is around it. */
	underline?: boolean;
	/** A checkbox's or radio's tick colour (`accent-color`) against what is around it: 3:1. */
	tick?: boolean;
};
type Measured = { [K in keyof Probe]?: { ratio: number; needs: number } };

/**
 * WCAG contrast of a control as the browser paints it, from computed styles: every colour is
 * composited over the backgrounds of the element's ancestors (and the element's own, for what is
 * drawn on it), at the element's opacity. Runs in the page; it must not use anything outside.
 */
function measure(el: Element, probe: Probe): Measured {
	type RGB = [number, number, number];
	const canvas = document.createElement('canvas');
	canvas.width = canvas.height = 1;
	const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
	// The canvas reads every colour syntax the browser may compute (rgb(), color(srgb …) from
	// color-mix(), keywords) as 8-bit RGBA.
	const rgba = (value: string): [number, number, number, number] => {
		ctx.clearRect(0, 0, 1, 1);
		ctx.fillStyle = '#000';
		ctx.fillStyle = value;
		ctx.fillRect(0, 0, 1, 1);
		const [r = 0, g = 0, b = 0, a = 0] = ctx.getImageData(0, 0, 1, 1).data;
		return [r, g, b, a / 255];
	};
	const over = (value: string, under: RGB): RGB => {
		const [r, g, b, a] = rgba(value);
		return [r * a + under[0] * (1 - a), g * a + under[1] * (1 - a), b * a + under[2] * (1 - a)];
	};
	const mix = (top: RGB, under: RGB, alpha: number): RGB =>
		top.map((c, i) => c * alpha + under[i]! * (1 - alpha)) as RGB;
	const luminance = (rgb: RGB) => {
		const [R, G, B] = rgb.map((c) => {
			const s = c / 255;
			return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
		});
		return 0.2126 * R! + 0.7152 * G! + 0.0722 * B!;
	};
	const contrast = (a: RGB, b: RGB) => {
		const [x, y] = [luminance(a), luminance(b)];
		return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05);
	};

	// What is painted beneath the element: its ancestors' backgrounds, outermost first.
	const ancestors: Element[] = [];
	for (let node = el.parentElement; node; node = node.parentElement) ancestors.unshift(node);
	let around: RGB = [255, 255, 255];
	for (const node of ancestors) around = over(getComputedStyle(node).backgroundColor, around);
	const style = getComputedStyle(el);
	const opacity = Number(style.opacity);
	const painted = (rgb: RGB) => mix(rgb, around, opacity);
	const own = painted(over(style.backgroundColor, around));

	const px = (value: string) => Number.parseFloat(value) || 0;
	const textNeeds = (s: CSSStyleDeclaration) => {
		const size = px(s.fontSize);
		return size >= 24 || (size >= 18.66 && Number(s.fontWeight) >= 700) ? 3 : 4.5;
	};
	const result: Measured = {};
	if (probe.text) {
		const ink = painted(over(style.color, over(style.backgroundColor, around)));
		result.text = { ratio: contrast(ink, own), needs: textNeeds(style) };
	}
	if (probe.placeholder) {
		const p = getComputedStyle(el, '::placeholder');
		const ink = painted(mix(over(p.color, own), own, Number(p.opacity)));
		result.placeholder = { ratio: contrast(ink, own), needs: textNeeds(style) };
	}
	if (probe.boundary) {
		const edge =
			px(style.borderTopWidth) > 0 && style.borderTopStyle !== 'none'
				? contrast(painted(over(style.borderTopColor, around)), around)
				: 0;
		result.boundary = { ratio: Math.max(edge, contrast(own, around)), needs: 3 };
	}
	if (probe.underline) {
		const line =
			px(style.borderBottomWidth) > 0 && style.borderBottomStyle !== 'none'
				? contrast(painted(over(style.borderBottomColor, own)), around)
				: 0;
		result.underline = { ratio: line, needs: 3 };
	}
	if (probe.ring) {
		let ratio = 0;
		if (style.outlineStyle !== 'none' && px(style.outlineWidth) > 0) {
			const offset = px(style.outlineOffset);
			const beside = offset < 0 ? [own] : offset === 0 ? [own, around] : [around];
			ratio = Math.min(...beside.map((c) => contrast(over(style.outlineColor, c), c)));
		}
		result.ring = { ratio, needs: 3 };
	}
	if (probe.tick) {
		const ratio =
			style.accentColor === 'auto' ? 0 : contrast(over(style.accentColor, around), around);
		result.tick = { ratio, needs: 3 };
	}
	return result;
}

/** Measures `control` in its current state; what falls short is added to `failures`. */
async function check(
	failures: string[],
	name: string,
	control: Locator,
	probe: Probe
): Promise<void> {
	const measured = await control.evaluate(measure, probe);
	for (const [what, value] of Object.entries(measured)) {
		if (typeof value !== 'object') continue;
		if (value.ratio < value.needs) {
			failures.push(`${name}: ${what} ${value.ratio.toFixed(2)}:1 < ${value.needs}:1`);
		}
	}
}

/** Focuses `control` as the keyboard would, so that it shows its focus ring. */
async function keyboardFocus(page: Page, control: Locator): Promise<void> {
	// A key press first: the browser then shows the ring for a programmatic focus, as for Tab.
	await page.keyboard.press('Shift');
	await control.focus();
	expect(await control.evaluate((el) => el.matches(':focus-visible'))).toBe(true);
}

/**
 * Every state a mouse and a keyboard give `control`: at rest, hovered, pressed (not for a select,
 * whose press opens the system's list), focused.
 */
async function checkStates(
	page: Page,
	failures: string[],
	name: string,
	control: Locator,
	probe: Probe = { text: true }
): Promise<void> {
	await page.mouse.move(0, 0);
	await control.evaluate((el) => (el as HTMLElement).blur());
	await check(failures, `${name}, at rest`, control, probe);
	await control.hover();
	await check(failures, `${name}, hovered`, control, probe);
	if (!(await control.evaluate((el) => el instanceof HTMLSelectElement))) {
		await page.mouse.down();
		await check(failures, `${name}, pressed`, control, probe);
		// Released away from the control, so that nothing is clicked.
		await page.mouse.move(0, 0);
		await page.mouse.up();
	}
	await keyboardFocus(page, control);
	await check(failures, `${name}, focused`, control, { ...probe, ring: true });
	await control.evaluate((el) => (el as HTMLElement).blur());
}

/**
 * The controls app.css styles for every page, on the two surfaces they sit on (the page and the
 * sidebar's soft background), built in the page under test: no route exists just for tests.
 */
async function addFixture(page: Page): Promise<void> {
	await page.evaluate(() => {
		const fixture = document.createElement('div');
		fixture.id = 'controls-fixture';
		Object.assign(fixture.style, {
			position: 'fixed',
			inset: '0',
			zIndex: '1000',
			overflow: 'auto',
			display: 'grid',
			gridTemplateColumns: '1fr 1fr'
		});
		for (const surface of ['page', 'soft']) {
			const panel = document.createElement('div');
			panel.dataset.surface = surface;
			Object.assign(panel.style, {
				padding: '1rem',
				display: 'grid',
				gap: '0.5rem',
				alignContent: 'start',
				background: surface === 'page' ? 'var(--bg)' : 'var(--bg-soft)'
			});
			const add = (tag: string, attributes: Record<string, string>, text = '') => {
				const el = document.createElement(tag);
				for (const [key, value] of Object.entries(attributes)) el.setAttribute(key, value);
				el.textContent = text;
				panel.appendChild(el);
				return el;
			};
			add('button', { type: 'button', 'data-control': 'primary' }, 'Primary');
			add('button', { type: 'button', class: 'secondary', 'data-control': 'secondary' }, 'More');
			add('button', { type: 'button', class: 'ghost', 'data-control': 'ghost' }, 'Ghost');
			add('button', { type: 'button', disabled: '', 'data-control': 'disabled' }, 'Disabled');
			const disabledSecondary = { type: 'button', class: 'secondary', disabled: '' };
			add('button', { ...disabledSecondary, 'data-control': 'disabled secondary' }, 'Disabled');
			const p = add('p', {});
			const link = document.createElement('a');
			link.href = '#controls-fixture';
			link.dataset.control = 'link';
			link.textContent = 'A link';
			p.appendChild(link);
			add('input', { type: 'text', placeholder: 'Placeholder', 'data-control': 'input' });
			add('textarea', { placeholder: 'Placeholder', 'data-control': 'textarea' });
			const select = add('select', { 'data-control': 'select' });
			select.appendChild(new Option('First choice'));
			select.appendChild(new Option('Second choice'));
			add('input', {
				type: 'text',
				value: 'Disabled',
				disabled: '',
				'data-control': 'disabled input'
			});
			add('input', {
				type: 'text',
				value: 'Invalid',
				'aria-invalid': 'true',
				'data-control': 'invalid input'
			});
			add('p', { class: 'field-error', 'data-control': 'field error' }, 'This is required.');
			add('p', { class: 'form-error', 'data-control': 'form error' }, 'That did not work.');
			add('input', { type: 'checkbox', 'data-control': 'checkbox' });
			add('input', { type: 'checkbox', checked: '', 'data-control': 'checked checkbox' });
			add('input', { type: 'radio', checked: '', 'data-control': 'checked radio' });
			fixture.appendChild(panel);
		}
		document.body.appendChild(fixture);
	});
}

for (const colorScheme of ['light', 'dark'] as const) {
	test(`the disabled Send button is legible in the ${colorScheme} theme`, async ({ browser }) => {
		const page = await personAt(browser, persona('dana'), 'desktop', { colorScheme });
		await page.getByLabel('New room').fill('Quiet room');
		await page.getByRole('button', { name: 'Create room' }).click();
		const send = page.getByRole('button', { name: 'Send' });
		await expect(send).toBeDisabled();
		const failures: string[] = [];
		await check(failures, 'Send, disabled', send, { text: true });
		expect(failures).toEqual([]);
	});

	test(`every state of every control is legible in the ${colorScheme} theme`, async ({
		browser
	}) => {
		test.slow();
		const page = await personAt(browser, persona('erin'), 'desktop', { colorScheme });
		const failures: string[] = [];

		// The room page: the composer, the sidebar's search, filters and rows, a reaction of mine.
		const roomPath = await createRoom(page, 'Contrast room');
		await say(page, 'Colours, please');
		const item = message(page, 'Colours, please');
		await item.hover();
		await item.getByRole('button', { name: 'Add reaction' }).click();
		await item.getByRole('button', { name: 'React with 👍' }).click();
		const mine = item.getByRole('button', { name: /^👍 1/ });
		await expect(mine).toHaveAttribute('aria-pressed', 'true');
		await checkStates(page, failures, 'my reaction', mine, { boundary: true });

		const composer = page.getByRole('textbox', { name: 'Message' });
		await checkStates(page, failures, 'composer', composer, {
			text: true,
			placeholder: true,
			boundary: true
		});
		const search = page.getByRole('searchbox', { name: 'Search conversations' });
		await checkStates(page, failures, 'conversation search', search, {
			text: true,
			placeholder: true,
			boundary: true
		});
		const filters = page.getByRole('group', { name: 'Show' });
		const chosen = filters.locator('label', { has: page.locator('input:checked') }).first();
		await check(failures, 'chosen filter', chosen, { text: true, boundary: true });
		const other = filters.locator('label', { has: page.locator('input:not(:checked)') }).first();
		await check(failures, 'other filter', other, { text: true });
		await keyboardFocus(page, filters.locator('input:checked'));
		await check(failures, 'chosen filter, focused', chosen, { ring: true });
		const current = page.locator('a.row[aria-current="page"]');
		await check(failures, 'current conversation', current.locator('.name'), { text: true });
		await check(failures, 'current conversation preview', current.locator('.preview'), {
			text: true
		});
		await checkStates(
			page,
			failures,
			'explore link',
			page.getByRole('navigation', { name: 'Explore' }).getByRole('link', { name: 'People' })
		);

		// A room's details: the chosen tab, and the notification settings' select and checkboxes.
		await page.goto(`${roomPath}/details?tab=notifications`);
		const tab = page.getByRole('tab', { selected: true });
		await expect(tab).toHaveAttribute('aria-controls', 'panel-notifications');
		await checkStates(page, failures, 'chosen tab', tab, { text: true, underline: true });
		await checkStates(
			page,
			failures,
			'other tab',
			page.getByRole('tab', { selected: false }).first()
		);
		const notify = page.getByRole('combobox', { name: 'Notifications' });
		await checkStates(page, failures, 'notifications select', notify, {
			text: true,
			boundary: true
		});
		const pin = page.getByRole('checkbox', { name: 'Pin to the top' });
		await pin.check();
		await check(failures, 'checked checkbox', pin, { tick: true });
		await keyboardFocus(page, pin);
		await check(failures, 'checked checkbox, focused', pin, { ring: true });

		// Settings: the current section in the navigation, and the account's danger button.
		await page.goto('/settings/account');
		await checkStates(
			page,
			failures,
			'current settings section',
			page.locator('a[aria-current="page"]')
		);
		await checkStates(
			page,
			failures,
			'danger button',
			page.getByRole('button', { name: 'Delete my account' })
		);

		// The controls app.css gives every page, in every state, on both surfaces.
		await addFixture(page);
		for (const surface of ['page', 'soft']) {
			const at = (control: string) =>
				page.locator(`#controls-fixture [data-surface="${surface}"] [data-control="${control}"]`);
			const name = (control: string) => `${control} (${surface})`;
			for (const button of ['primary', 'secondary', 'ghost', 'link']) {
				await checkStates(page, failures, name(button), at(button));
			}
			for (const disabled of ['disabled', 'disabled secondary', 'disabled input']) {
				await check(failures, name(disabled), at(disabled), { text: true });
			}
			for (const field of ['input', 'textarea', 'select', 'invalid input']) {
				await checkStates(page, failures, name(field), at(field), {
					text: true,
					boundary: true,
					placeholder: field === 'input' || field === 'textarea'
				});
			}
			for (const error of ['field error', 'form error']) {
				await check(failures, name(error), at(error), { text: true });
			}
			await checkStates(page, failures, name('checkbox'), at('checkbox'), {});
			for (const ticked of ['checked checkbox', 'checked radio']) {
				await checkStates(page, failures, name(ticked), at(ticked), { tick: true });
			}
		}

		expect(failures).toEqual([]);
	});
}
