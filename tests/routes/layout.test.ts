// The root layout's data: who is signed in, and whether their mail stays on this machine.
import { describe, expect, it } from 'vitest';
import { load as loadLayout } from '../../src/routes/+layout.server';
import { registerPerson, signedInBrowser } from '../support/accounts';
import { TestBrowser } from '../support/request-event';

describe('the root layout', () => {
	it('tells the "confirm your email" banner where development mail went, and only in development', async () => {
		const ann = await registerPerson('ann');
		const browser = await signedInBrowser(ann);
		const dev = await browser.call(loadLayout, { path: '/' });
		expect(dev).toMatchObject({ kind: 'data', data: { user: { id: ann.id }, devMail: true } });
		const deployed = await browser.call(loadLayout, {
			path: '/',
			env: { APP_ENV: 'production' }
		});
		expect(deployed).toMatchObject({
			kind: 'data',
			data: { user: { id: ann.id }, devMail: false }
		});
	});

	it('gives a visitor who is not signed in nothing of anyone', async () => {
		const outcome = await new TestBrowser().call(loadLayout, { path: '/' });
		expect(outcome).toMatchObject({
			kind: 'data',
			data: { user: null, conversations: [], devMail: false }
		});
	});
});
