// Draws the web app manifest's PNG icons from `static/favicon.svg`, so that every icon is the same
// picture as the tab's. Run it after changing the favicon, and commit what it writes:
//   node --experimental-strip-types --no-warnings scripts/icons.ts
// The system's Chromium renders the SVG (no image library to install).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { chromium } from '@playwright/test';

const source = 'static/favicon.svg';

/** Sizes browsers ask for: 192 and 512 for install and splash screens, 96 for shortcuts. */
const PLAIN = [96, 192, 512];

/**
 * The maskable variant: the platform crops it to its own shape (circle, squircle), keeping only
 * the centre circle of 80% of the width. The background fills the whole square and the glyph is
 * drawn smaller, well inside that circle.
 */
function maskable(svg: string): string {
	const rect = /<rect\b[^>]*\/>/.exec(svg);
	if (!rect) throw new Error(`${source}: expected a background <rect/>`);
	const background = rect[0].replace(/\s+r[xy]="[^"]*"/g, '');
	const glyph = svg.slice(svg.indexOf(rect[0]) + rect[0].length, svg.lastIndexOf('</svg>'));
	const open = svg.slice(0, svg.indexOf(rect[0]));
	return `${open}${background}<g transform="translate(16 16) scale(0.7) translate(-16 -16)">${glyph}</g></svg>`;
}

/**
 * The badge of a notification (Android's status bar): only its shape counts, so the glyph alone,
 * white on nothing.
 */
function badge(svg: string): string {
	return svg.replace(/<rect\b[^>]*\/>/, '');
}

const systemChromium = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) =>
	existsSync(p)
);

async function main() {
	const svg = readFileSync(source, 'utf8');
	const browser = await chromium.launch({
		executablePath: systemChromium,
		args: systemChromium ? ['--no-sandbox', '--disable-gpu'] : []
	});
	try {
		const page = await browser.newPage();
		const draw = async (picture: string, size: number, out: string) => {
			await page.setViewportSize({ width: size, height: size });
			const url = `data:image/svg+xml;base64,${Buffer.from(picture).toString('base64')}`;
			await page.setContent(
				`<style>html,body{margin:0;background:transparent}img{display:block}</style>` +
					`<img src="${url}" width="${size}" height="${size}" alt="">`
			);
			await page
				.locator('img')
				.evaluate((img) => (img as unknown as { decode(): Promise<void> }).decode());
			writeFileSync(out, await page.screenshot({ omitBackground: true }));
			console.log(`wrote ${out}`);
		};
		for (const size of PLAIN) await draw(svg, size, `static/icons/icon-${size}.png`);
		await draw(maskable(svg), 512, 'static/icons/maskable-512.png');
		await draw(badge(svg), 96, 'static/icons/badge-96.png');
	} finally {
		await browser.close();
	}
}

await main();
