import { expect, test } from './fixtures';
import { persona, signedInPage } from './support';
import { expectConnected, expectNotConnected } from './realtime-support';

test('two people in two browsers chat in a room, in the same order, and the history survives a reload', async ({
	browser
}) => {
	const alice = await signedInPage(browser, persona('alice'));
	const bob = await signedInPage(browser, persona('bob'));

	await alice.getByLabel('New room').fill('Weekend plans');
	await alice.getByRole('button', { name: 'Create room' }).click();
	await expect(alice.getByRole('heading', { name: 'Weekend plans' })).toBeVisible();
	await expectConnected(alice);

	// Alice sends the link; Bob opens it and joins.
	await bob.goto(alice.url());
	await bob.getByRole('button', { name: 'Join room' }).click();
	await expectConnected(bob);

	const aliceLog = alice.getByRole('log', { name: 'Messages' });
	const bobLog = bob.getByRole('log', { name: 'Messages' });

	await alice.getByRole('textbox', { name: 'Message' }).fill('Hi Bob, hiking on Saturday?');
	await alice.getByRole('textbox', { name: 'Message' }).press('Enter');
	await expect(bobLog.getByText('Hi Bob, hiking on Saturday?')).toBeVisible();

	await bob.getByRole('textbox', { name: 'Message' }).fill('Yes! Sunrise start?');
	await bob.getByRole('textbox', { name: 'Message' }).press('Enter');
	await expect(aliceLog.getByText('Yes! Sunrise start?')).toBeVisible();

	const expected = ['Hi Bob, hiking on Saturday?', 'Yes! Sunrise start?'];
	await expect(aliceLog.locator('li[data-seq] .body')).toHaveText(expected);
	await expect(bobLog.locator('li[data-seq] .body')).toHaveText(expected);
	// Author names are shown with each message.
	await expect(bobLog.locator('li[data-seq]').first()).toContainText('Alice');

	await bob.reload();
	await expect(bob.getByRole('log', { name: 'Messages' }).locator('li[data-seq] .body')).toHaveText(
		expected
	);
});

test('a client that was offline catches up on what it missed, without gaps or duplicates', async ({
	browser
}) => {
	const alice = await signedInPage(browser, persona('alice'));
	const bob = await signedInPage(browser, persona('bob'));
	await alice.getByLabel('New room').fill('Catch-up');
	await alice.getByRole('button', { name: 'Create room' }).click();
	await expect(alice.getByRole('heading', { name: 'Catch-up' })).toBeVisible();
	await bob.goto(alice.url());
	await bob.getByRole('button', { name: 'Join room' }).click();
	await expectConnected(bob);

	// Bob's laptop lid closes: his connection drops.
	await bob.context().setOffline(true);
	await bob.evaluate(() => window.dispatchEvent(new Event('offline')));
	await expectNotConnected(bob);
	for (const text of ['one', 'two', 'three']) {
		await alice.getByRole('textbox', { name: 'Message' }).fill(text);
		await alice.getByRole('textbox', { name: 'Message' }).press('Enter');
	}
	await expect(alice.getByRole('log').locator('li[data-seq] .body')).toHaveText([
		'one',
		'two',
		'three'
	]);

	await expect(bob.getByRole('log').getByText('one')).toHaveCount(0);

	await bob.context().setOffline(false);
	const bobLog = bob.getByRole('log', { name: 'Messages' });
	await expect(bobLog.locator('li[data-seq] .body')).toHaveText(['one', 'two', 'three'], {
		timeout: 45_000
	});
});
