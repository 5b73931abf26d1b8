// Who is a site admin: the configured usernames or email addresses, whatever their case or
// spacing, and no one when the setting is empty or not text. Anyone else asking for the admin
// area gets a 404, signed in or not; the account menu links to it for site admins only.
import { describe, expect, it } from 'vitest';
import { isSiteAdmin, siteAdminNames } from '$lib/server/moderation/site-admin';
import { load as adminLoad } from '../../../../src/routes/admin/+page.server';
import { load as layoutLoad } from '../../../../src/routes/+layout.server';
import { registerPerson, signedInBrowser } from '../../../support/accounts';
import { TestBrowser } from '../../../support/request-event';

const ana = { username: 'Ana.B', email: 'ana@example.test' };

describe('isSiteAdmin', () => {
	it('matches a configured username or email address, ignoring case, spaces and an @', () => {
		for (const value of [
			'ana.b',
			' ANA.B ',
			'bob, @ana.b',
			'ANA@example.TEST',
			'x,,ana@example.test,'
		]) {
			expect(isSiteAdmin({ SITE_ADMINS: value }, ana), value).toBe(true);
		}
	});

	it('names no one when empty, not text, or only similar', () => {
		for (const value of [
			'',
			' , ',
			'ana',
			'ana.b2',
			'example.test',
			undefined,
			42,
			['ana.b'],
			null
		]) {
			expect(isSiteAdmin({ SITE_ADMINS: value }, ana), String(value)).toBe(false);
		}
		expect(isSiteAdmin({}, ana)).toBe(false);
	});

	it('never names a bot', () => {
		expect(isSiteAdmin({ SITE_ADMINS: 'ana.b' }, { ...ana, bot: true })).toBe(false);
	});

	it('reads the list as lower-cased names', () => {
		expect(siteAdminNames({ SITE_ADMINS: ' Ana.B ,Bob@Example.test,, ' })).toEqual([
			'ana.b',
			'bob@example.test'
		]);
	});
});

describe('the admin area and the account menu', () => {
	it('is a 404 to anyone but a site admin, and the menu offers it to site admins only', async () => {
		const sam = await registerPerson('sam');
		const eve = await registerPerson('eve');
		const config = { SITE_ADMINS: sam.username };
		const samBrowser = await signedInBrowser(sam);
		const eveBrowser = await signedInBrowser(eve);
		const call = (browser: TestBrowser, handler: typeof adminLoad) =>
			browser.call(handler, { path: '/admin', env: config });
		const menu = (browser: TestBrowser) => browser.call(layoutLoad, { path: '/', env: config });

		expect(await call(samBrowser, adminLoad)).toMatchObject({ kind: 'data' });
		for (const browser of [eveBrowser, new TestBrowser()]) {
			expect(await call(browser, adminLoad)).toEqual({
				kind: 'error',
				status: 404,
				message: 'Not found'
			});
		}
		expect(await menu(samBrowser)).toMatchObject({
			data: { user: { siteAdmin: true } }
		});
		expect(await menu(eveBrowser)).toMatchObject({
			data: { user: { siteAdmin: false } }
		});
	});
});
