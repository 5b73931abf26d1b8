import { expect, test } from './fixtures';
import { befriend, openProfile, sendMessage, timeline } from './people-support';
import { persona, signedInPage } from './support';
import { openDetails } from './ui-support';
import { expectConnected } from './realtime-support';

test('two people find each other, become friends and talk in a direct conversation', async ({
	browser
}) => {
	const aliceWho = persona('alice');
	const bobWho = persona('bob');
	const alice = await signedInPage(browser, aliceWho);
	const bob = await signedInPage(browser, bobWho);

	// Bob keeps his friends page open: the request arrives there without a reload.
	await bob.goto('/friends');
	await expect(bob.getByText('No requests right now.')).toBeVisible();

	await openProfile(alice, bobWho);
	await expect(alice.getByText('Bob takes direct messages from friends only.')).toBeVisible();
	await alice.getByRole('button', { name: 'Add friend' }).click();
	await expect(alice.getByRole('button', { name: 'Cancel friend request' })).toBeVisible();

	const incoming = bob.getByRole('list', { name: 'Incoming requests' });
	await expect(incoming.getByText('Alice', { exact: true })).toBeVisible();
	await expect(bob.getByLabel('1 waiting')).toHaveText('1');
	await incoming.getByRole('button', { name: 'Accept' }).click();
	await expect(
		bob.getByRole('list', { name: 'Friends' }).getByText('Alice', { exact: true })
	).toBeVisible();
	await expect(bob.getByLabel('1 waiting')).toHaveCount(0);

	// Alice opens her own friends page too: each sees the other online.
	await alice.goto('/friends');
	await expect(
		alice.getByRole('list', { name: 'Friends' }).getByRole('listitem').filter({ hasText: 'Bob' })
	).toContainText('Online');
	await expect(
		bob.getByRole('list', { name: 'Friends' }).getByRole('listitem').filter({ hasText: 'Alice' })
	).toContainText('Online');

	await openProfile(alice, bobWho);
	await expect(alice.getByText('You are friends.')).toBeVisible();
	await alice.getByRole('button', { name: 'Message' }).click();
	await expect(alice).toHaveURL(/\/rooms\/[a-z0-9]+$/);
	await expect(alice.getByRole('heading', { name: 'Bob' })).toBeVisible();
	await expectConnected(alice);
	await sendMessage(alice, 'Hi Bob, coffee later?');

	// Bob presses "Message" on Alice's profile and lands in the very same conversation.
	await openProfile(bob, aliceWho);
	await bob.getByRole('button', { name: 'Message' }).click();
	await expect(bob).toHaveURL(alice.url());
	await expect(bob.getByRole('heading', { name: 'Alice' })).toBeVisible();
	await expect(timeline(bob).getByText('Hi Bob, coffee later?')).toBeVisible();
	await sendMessage(bob, 'Sure, at four!');
	await expect(timeline(alice).getByText('Sure, at four!')).toBeVisible();
});

test('a request that arrives while the friends page is still connecting shows in its list', async ({
	browser
}) => {
	const aliceWho = persona('alice');
	const bobWho = persona('bob');
	const alice = await signedInPage(browser, aliceWho);
	const bob = await signedInPage(browser, bobWho);

	// Bob's page has loaded its (empty) list, but its live connection is held back until the
	// request is stored: the news of it never reaches the page, only the count in the welcome.
	let letThrough = () => {};
	const held = new Promise<void>((resolve) => (letThrough = resolve));
	await bob.routeWebSocket(/\/ws\/me$/, async (socket) => {
		await held;
		socket.connectToServer();
	});
	await bob.goto('/friends');
	await expect(bob.getByText('No requests right now.')).toBeVisible();

	await openProfile(alice, bobWho);
	await alice.getByRole('button', { name: 'Add friend' }).click();
	await expect(alice.getByRole('button', { name: 'Cancel friend request' })).toBeVisible();

	letThrough();
	await expect(bob.getByLabel('1 waiting')).toHaveText('1');
	const incoming = bob.getByRole('list', { name: 'Incoming requests' });
	await expect(incoming.getByText('Alice', { exact: true })).toBeVisible();
});

test('a third person joins a group by invite link, is promoted, and removes someone whose open tab loses access at once', async ({
	browser
}) => {
	const aliceWho = persona('alice');
	const bobWho = persona('bob');
	const carolWho = persona('carol');
	const alice = await signedInPage(browser, aliceWho);
	const bob = await signedInPage(browser, bobWho);
	const carol = await signedInPage(browser, carolWho);

	// Alice and Bob are friends, so Alice can put Bob in the group she creates.
	await befriend(alice, 'Alice', bob, bobWho);

	await alice.goto('/groups/new');
	await alice.getByLabel('Name').fill('Climbing crew');
	await alice.getByLabel('Description').fill('Weekend trips');
	await alice.getByRole('checkbox', { name: /Bob/ }).check();
	await alice.getByRole('button', { name: 'Create group' }).click();
	await expect(alice.getByRole('heading', { name: 'Climbing crew' })).toBeVisible();
	const roomUrl = alice.url();

	// Bob has the group open in his tab.
	await bob.goto(roomUrl);
	await expectConnected(bob);
	await expect(timeline(bob).getByText('Alice added Bob')).toBeVisible();

	// An empty name is refused at the field; a new description is kept.
	await alice.goto(`${roomUrl}/details`);
	const about = alice.getByRole('region', { name: 'About' });
	await about.getByLabel('Name').fill(' ');
	await about.getByRole('button', { name: 'Save', exact: true }).click();
	await expect(about.getByLabel('Name')).toHaveAccessibleDescription('Give the room a name.');
	await about.getByLabel('Name').fill('Climbing crew');
	await about.getByLabel('Description').fill('Weekend trips and gym nights');
	await about.getByRole('button', { name: 'Save', exact: true }).click();
	await expect(about.getByLabel('Name')).not.toHaveAttribute('aria-invalid');
	await alice.reload();
	await expect(about.getByLabel('Description')).toHaveValue('Weekend trips and gym nights');

	// Alice makes an invite link limited to one use and gives it to Carol.
	await alice.getByRole('tab', { name: 'Invites' }).click();
	await alice.getByLabel('Maximum uses').fill('1');
	await alice.getByRole('button', { name: 'Create invite link' }).click();
	const link = await alice.getByLabel(/New invite link/).inputValue();
	expect(link).toMatch(/\/invite\/[a-z0-9]+$/);

	await carol.goto(link);
	await expect(carol.getByRole('heading', { name: 'Climbing crew' })).toBeVisible();
	await carol.getByRole('button', { name: 'Join Climbing crew' }).click();
	await expectConnected(carol);
	await expect(timeline(bob).getByText('Carol joined with an invite link')).toBeVisible();

	// The link was for one person: a second use is refused.
	const stranger = await signedInPage(browser, persona('dave'));
	await stranger.goto(link);
	await expect(stranger.getByRole('alert')).toContainText('This invite link has been used up.');

	await alice.reload();
	await alice.getByRole('tab', { name: 'Members' }).click();
	await alice.getByRole('button', { name: 'Make Carol an admin' }).click();
	await expect(alice.getByRole('button', { name: 'Make Carol a member' })).toBeVisible();
	await expect(timeline(bob).getByText('Alice made Carol an admin')).toBeVisible();

	// Carol, now an admin, removes Bob while his tab is open.
	await openDetails(carol, roomUrl, 'members');
	await carol.getByRole('button', { name: 'Remove Bob' }).click();
	await expect(
		carol.getByRole('list', { name: 'Members' }).getByText('Bob', { exact: true })
	).toHaveCount(0);

	await expect(bob.getByRole('alert')).toContainText('You no longer have access to this room.');
	await expect(bob.getByRole('status')).toHaveText('Disconnected');
	// Nothing said after the removal reaches him.
	await carol.goto(roomUrl);
	await sendMessage(carol, 'Bob is gone');
	await expect(timeline(carol).locator('li[data-seq]').getByText('Bob is gone')).toBeVisible();
	await expect(timeline(bob).getByText('Bob is gone')).toHaveCount(0);
	await expect(timeline(carol).getByText('Carol removed Bob')).toBeVisible();

	await bob.reload();
	await expect(bob.getByRole('heading', { name: 'Not found' })).toBeVisible();
	const history = await bob.request.get(`/api/rooms/${roomUrl.split('/').pop()}/messages`);
	expect(history.status()).toBe(404);
});
