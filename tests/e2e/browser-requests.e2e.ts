// Paths browsers and crawlers ask for on their own, whatever the page names: none is a 404.
import { expect, test } from './fixtures';

for (const path of ['/favicon.ico', '/apple-touch-icon.png', '/robots.txt']) {
	test(`${path} is served`, async ({ request }) => {
		const response = await request.get(path, { maxRedirects: 0 });
		expect(response.status(), path).toBeGreaterThanOrEqual(200);
		expect(response.status(), path).toBeLessThan(400);
	});
}
