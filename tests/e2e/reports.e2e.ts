// Reports: a member reports someone else's message from its actions; the room's owner finds it in
// the room details (Reports) with its words and the conversation around it, deletes the message,
// and it goes from the reporter's open tab at once.
import { expect, test } from './fixtures';
import { act, expectConnected, message, peopleInRoom, say } from './realtime-support';
import { expectNoSeriousA11yViolations } from './ui-support';

test('a reported message reaches the room’s owner, who deletes it', async ({ browser }) => {
	const [ana, bea, cy] = await peopleInRoom(browser, ['ana', 'bea', 'cy'] as const, 'Garden club');
	const spam = 'Cheap watches at example.test';
	await say(cy.page, spam);
	await expect(message(bea.page, spam)).toBeVisible();

	// Bea reports it: a dialog with the reasons, a few words, and thanks.
	await act(bea.page, spam, 'Report');
	const dialog = bea.page.getByRole('dialog', { name: 'Report this message by Cy' });
	await dialog.getByRole('radio', { name: 'Spam' }).check();
	await dialog.getByLabel('Anything the admins should know? (optional)').fill('Posted everywhere');
	await expectNoSeriousA11yViolations(bea.page, 'the report dialog');
	await dialog.getByRole('button', { name: 'Send report' }).click();
	await expect(dialog.getByRole('status')).toHaveText(
		'Thanks, the room’s admins will see your report.'
	);
	await dialog.getByRole('button', { name: 'Close' }).click();
	await expect(dialog).toBeHidden();

	// Ana, the owner, sees it in the room's details, with the message as it was reported.
	const roomPath = new URL(ana.page.url()).pathname;
	await ana.page.goto(`${roomPath}/details?tab=reports`);
	const panel = ana.page.getByRole('tabpanel', { name: 'Reports' });
	const report = panel.getByRole('article', { name: /^Spam/ });
	await expect(report.getByRole('heading')).toHaveText(/Spam\s*· a message by Cy/);
	await expect(report.getByText('Reported by Bea')).toBeVisible();
	await expect(report.getByText('Posted everywhere')).toBeVisible();
	await expect(report.locator('blockquote')).toHaveText(spam);
	await expect(report.getByRole('link', { name: 'Show it in the timeline' })).toHaveAttribute(
		'href',
		/\?m=\d+$/
	);

	await expectNoSeriousA11yViolations(ana.page, 'the Reports section');

	await report.getByRole('button', { name: 'Delete message' }).click();
	const confirm = ana.page.getByRole('dialog', { name: 'Delete this message by Cy?' });
	await confirm.getByRole('button', { name: 'Delete message' }).click();
	await expect(panel.getByText('No open reports.')).toBeVisible();

	// The message is gone from Bea's open tab, without a reload.
	await expectConnected(bea.page);
	await expect(message(bea.page, spam)).toHaveCount(0);
	await expect(
		bea.page.getByRole('log', { name: 'Messages' }).getByText(/Removed by an admin|was deleted/)
	).toBeVisible();

	// The resolved list keeps what was reported and what was done.
	await panel.getByRole('link', { name: 'Resolved' }).click();
	const resolved = panel.getByRole('article', { name: /^Spam/ });
	await expect(resolved.locator('blockquote')).toHaveText(spam);
	await expect(resolved.getByText(/Message deleted\s+by Ana/)).toBeVisible();
});
