// The pages' ways into end-to-end encryption (docs/e2ee.md), driven as SvelteKit calls their form
// actions: either person of a direct conversation turns it on from the room's details (nobody
// else, never for a group, once only), and a group is made encrypted by the New group checkbox.
// Either way the room object refuses words in the clear from then on, and the sidebar says so.
import { describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { ErrorCode } from '$shared/protocol';
import { rooms } from '$shared/db/schema';
import { ENCRYPTION_STARTED } from '$lib/server/e2ee/rooms';
import { readHistory } from '$lib/server/rooms/history';
import { findOrCreateDirectRoom } from '$lib/server/rooms/direct-rooms';
import { listConversations } from '$lib/server/rooms/rooms';
import * as details from '../../src/routes/rooms/[id]/details/+page.server';
import { sectionIn } from '../../src/routes/rooms/[id]/details/sections';
import * as newGroup from '../../src/routes/groups/new/+page.server';
import { signedInBrowser } from '../support/accounts';
import { befriend } from '../support/people';
import type { Outcome, TestBrowser } from '../support/request-event';
import { db, roomStub, seedRoom, seedUser, type Person } from '../helpers';

function encrypt(browser: TestBrowser, roomId: string): Promise<Outcome> {
	return browser.call(details.actions.encrypt!, {
		path: `/rooms/${roomId}/details?/encrypt`,
		params: { id: roomId },
		form: {}
	});
}

async function encryptionOf(roomId: string) {
	const [row] = await db()
		.select({ encryption: rooms.encryption })
		.from(rooms)
		.where(eq(rooms.id, roomId));
	return row?.encryption;
}

/** What the room object answers a message in the clear, sent through the app as `person`. */
function sendPlain(roomId: string, person: Person, clientId: string) {
	return roomStub(roomId).change(
		roomId,
		{ userId: person.id, name: person.name, username: person.username, role: 'member' },
		{ type: 'send', clientId, body: 'hello in the clear' }
	);
}

async function directRoom(a: Person, b: Person): Promise<string> {
	await befriend(a, b);
	const made = await findOrCreateDirectRoom(db(), a.id, b.id);
	if (!made.ok) throw new Error(made.message);
	return made.roomId;
}

describe('turning on encryption in a direct conversation', () => {
	it('is done by one of its two people, once, and the room takes no words in the clear after', async () => {
		const [ann, bob, sam] = await Promise.all(['ann', 'bob', 'sam'].map((n) => seedUser(n)));
		const roomId = await directRoom(ann!, bob!);

		// Someone else is refused as if the room did not exist, and nothing changes.
		expect(await encrypt(await signedInBrowser(sam!), roomId)).toMatchObject({
			kind: 'failure',
			status: 404
		});
		expect(await encryptionOf(roomId)).toBeNull();

		expect(await encrypt(await signedInBrowser(ann!), roomId)).toEqual({
			kind: 'redirect',
			status: 303,
			location: `/rooms/${roomId}/details?tab=encryption`
		});
		expect(await encryptionOf(roomId)).toBe('mls');
		const said = await readHistory(db(), roomStub(roomId), roomId, {});
		expect(said.messages.map((m) => [m.kind, m.body])).toEqual([
			['system', `Ann ${ENCRYPTION_STARTED}`]
		]);

		// Again, by the other person: already done, so nothing more is said or changed.
		expect(await encrypt(await signedInBrowser(bob!), roomId)).toMatchObject({
			kind: 'redirect',
			status: 303
		});
		expect(await roomStub(roomId).lastSeq()).toBe(1);

		expect(await sendPlain(roomId, bob!, 'plain')).toMatchObject({
			ok: false,
			code: ErrorCode.Encryption
		});
		expect(await roomStub(roomId).lastSeq()).toBe(1);

		// The details page and both sidebars say so.
		const loaded = await (
			await signedInBrowser(bob!)
		).call(details.load, {
			path: `/rooms/${roomId}/details?tab=encryption`,
			params: { id: roomId }
		});
		expect(loaded).toMatchObject({ kind: 'data', data: { room: { encrypted: true } } });
		for (const person of [ann!, bob!]) {
			const row = (await listConversations(db(), person.id)).find((c) => c.id === roomId);
			expect(row?.encrypted, person.name).toBe(true);
		}
	});

	it('is refused for a group, which stays as it was made', async () => {
		const [ann, bob] = await Promise.all(['ann', 'bob'].map((n) => seedUser(n)));
		const roomId = await seedRoom(ann!, bob!);
		expect(await encrypt(await signedInBrowser(ann!), roomId)).toMatchObject({
			kind: 'failure',
			status: 400,
			data: { code: 'bad_input' }
		});
		expect(await encryptionOf(roomId)).toBeNull();
		expect(await sendPlain(roomId, ann!, 'plain')).toMatchObject({ ok: true });
		const row = (await listConversations(db(), ann!.id)).find((c) => c.id === roomId);
		expect(row?.encrypted).toBe(false);
	});

	it('belongs to the Encryption section: its answer opens there', () => {
		expect(sectionIn(new URL('https://parley.test/rooms/r1/details?/encrypt'))).toBe('encryption');
		expect(sectionIn(new URL('https://parley.test/rooms/r1/details?tab=encryption'))).toBe(
			'encryption'
		);
	});
});

describe('the New group checkbox', () => {
	async function create(browser: TestBrowser, form: Record<string, string>) {
		const outcome = await browser.call(newGroup.actions.default!, { path: '/groups/new', form });
		if (outcome.kind !== 'redirect') return { outcome, roomId: null };
		return { outcome, roomId: outcome.location.replace('/rooms/', '') };
	}

	it('makes the group encrypted: the room refuses words in the clear from its first message', async () => {
		const ann = await seedUser('ann');
		const browser = await signedInBrowser(ann);
		const { roomId } = await create(browser, { name: 'Secret plans', encrypted: '1' });
		expect(roomId).not.toBeNull();
		expect(await encryptionOf(roomId!)).toBe('mls');
		const said = await readHistory(db(), roomStub(roomId!), roomId!, {});
		expect(said.messages.map((m) => m.body)).toEqual([
			'Ann created the group with end-to-end encryption'
		]);
		expect(await sendPlain(roomId!, ann, 'plain')).toMatchObject({
			ok: false,
			code: ErrorCode.Encryption
		});
		const row = (await listConversations(db(), ann.id)).find((c) => c.id === roomId);
		expect(row?.encrypted).toBe(true);
	});

	it('left empty, makes a plain group; anything but its own value is refused', async () => {
		const ann = await seedUser('ann');
		const browser = await signedInBrowser(ann);
		const { roomId } = await create(browser, { name: 'Open plans' });
		expect(await encryptionOf(roomId!)).toBeNull();
		expect(await sendPlain(roomId!, ann, 'plain')).toMatchObject({ ok: true });

		const refused = await create(browser, { name: 'Odd plans', encrypted: 'yes' });
		expect(refused.outcome).toMatchObject({
			kind: 'failure',
			status: 400,
			data: { values: { name: 'Odd plans' }, errors: { encrypted: expect.any(String) } }
		});
	});
});
