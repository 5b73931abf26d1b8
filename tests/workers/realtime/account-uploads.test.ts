// Deleting an account takes the person's files out of the messages that carried them, in every
// room they shared files with: live, in the history, in D1, and the bytes are deleted. Everyone
// else's files stay where they were.
import { describe, expect, it } from 'vitest';
import { runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { and, eq, inArray } from 'drizzle-orm';
import type { Attachment, ChatMessage } from '$shared/protocol';
import { files, messages } from '$shared/db/schema';
import { readHistory } from '$lib/server/rooms/history';
import { connect, db, roomStub, seedRoom, type TestSocket } from '../../helpers';
import { PASSWORD, registerPerson, signedInBrowser } from '../../support/accounts';
import { FileClient, PDF, PNG, TEXT } from '../../lib/server/files/support';
import { actions as accountActions } from '../../../src/routes/settings/account/+page.server';

type Member = Awaited<ReturnType<typeof registerPerson>>;
const person = (p: Member) => ({ id: p.id, name: p.displayName, username: p.username });

/** Uploads through the app's route; answers the file as a message carries it, and its R2 key. */
async function upload(who: Member, roomId: string, bytes: Uint8Array, name: string) {
	const client = await FileClient.as(person(who));
	const {
		url: _u,
		width: _w,
		height: _h,
		placeholder: _p,
		...rest
	} = await client.stored(roomId, bytes, name);
	const attachment: Attachment = { ...rest, kind: rest.kind as Attachment['kind'] };
	const [row] = await db().select({ r2Key: files.r2Key }).from(files).where(eq(files.id, rest.id));
	return { attachment, r2Key: row!.r2Key };
}

type Uploaded = Awaited<ReturnType<typeof upload>>;

/** Sends a message and waits for its ack; answers its seq. */
async function send(socket: TestSocket, clientId: string, body: string, carried: Uploaded[]) {
	socket.send({
		type: 'send',
		clientId,
		body,
		attachments: carried.map((file) => file.attachment.id)
	});
	return (await socket.next('ack', (ack) => ack.clientId === clientId)).seq;
}

/** Whether the file's D1 row and R2 object are still there. */
async function stored(file: Uploaded): Promise<{ row: boolean; object: boolean }> {
	const rows = await db()
		.select({ id: files.id })
		.from(files)
		.where(eq(files.id, file.attachment.id));
	return { row: rows.length === 1, object: (await env.FILES.head(file.r2Key)) !== null };
}

/** D1's copy of the messages' attachment lists, by seq. */
async function d1Attachments(roomId: string, seqs: number[]) {
	const rows = await db()
		.select({ seq: messages.seq, attachments: messages.attachments })
		.from(messages)
		.where(and(eq(messages.roomId, roomId), inArray(messages.seq, seqs)));
	return Object.fromEntries(
		rows.map((row) => [row.seq, row.attachments === null ? null : JSON.parse(row.attachments)])
	);
}

/** Waits (polling) for the room's flush and background deletions; fails if they never come. */
async function eventually(check: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	while (!(await check())) {
		if (Date.now() > deadline) throw new Error('timed out waiting for background work');
		await new Promise((resolve) => setTimeout(resolve, 25));
	}
}

/** Whether the room still records the file as uploaded to it. */
function roomKnows(roomId: string, fileId: string): Promise<boolean> {
	return runInDurableObject(
		roomStub(roomId),
		(_instance, state) =>
			state.storage.sql.exec('SELECT 1 FROM files WHERE id = ?', fileId).toArray().length > 0
	);
}

const bySeq = (list: ChatMessage[], seq: number) => list.find((m) => m.seq === seq)!;

describe("deleting an account and the person's attachments", () => {
	it('strips them from their messages in every room, live, in history and in D1, and deletes them', async () => {
		const alice = await registerPerson('alice');
		const bob = await registerPerson('bob');
		const first = await seedRoom(person(alice), person(bob));
		const second = await seedRoom(person(bob), person(alice));

		const photo = await upload(alice, first, PNG, 'beach.png');
		const notes = await upload(alice, first, PDF, 'notes.pdf');
		const alone = await upload(alice, first, TEXT, 'alone.txt');
		const unsent = await upload(alice, first, TEXT, 'unsent.txt');
		const bobsFirst = await upload(bob, first, PNG, 'bobs.png');
		const elsewhere = await upload(alice, second, PDF, 'elsewhere.pdf');
		const bobsSecond = await upload(bob, second, TEXT, 'bobs.txt');
		const alices = [photo, notes, alone, unsent, elsewhere];

		const a1 = await connect(first, person(alice), 0);
		const a2 = await connect(second, person(alice), 0);
		const b1 = await connect(first, person(bob), 0);
		const b2 = await connect(second, person(bob), 0);
		const captioned = await send(a1, 'a1', 'holiday', [photo, notes]);
		const bare = await send(a1, 'a2', '', [alone]);
		const bobs = await send(b1, 'b1', 'mine', [bobsFirst]);
		const bareElsewhere = await send(a2, 'a3', '  ', [elsewhere]);
		const bobsElsewhere = await send(b2, 'b2', '', [bobsSecond]);
		// D1 has every message with its files before the deletion, so the flush must rewrite them.
		await eventually(async () => {
			const one = await d1Attachments(first, [captioned, bare, bobs]);
			const two = await d1Attachments(second, [bareElsewhere, bobsElsewhere]);
			return Object.keys(one).length === 3 && Object.keys(two).length === 2;
		});
		const revBefore = (await roomStub(first).revisions()).rev;
		b1.clear();
		b2.clear();

		const browser = await signedInBrowser(alice);
		expect(
			await browser.call(accountActions.delete!, {
				path: '/settings/account?/delete',
				form: { confirm: PASSWORD }
			})
		).toMatchObject({ kind: 'redirect' });

		// Live: Bob's open sockets hear each change as an update with a new rev.
		const updated = await b1.until((frames) => {
			const list = frames.flatMap((f) => (f.type === 'update' ? [f.message] : []));
			return list.length >= 2 && list;
		});
		expect(updated.map((m) => m.seq).sort()).toEqual([captioned, bare].sort());
		const liveCaptioned = bySeq(updated, captioned);
		expect(liveCaptioned.body).toBe('holiday');
		expect(liveCaptioned.attachments).toBeUndefined();
		expect(liveCaptioned.deletedAt).toBeUndefined();
		expect(liveCaptioned.rev).toBeGreaterThan(revBefore);
		// Neither words nor files left: it becomes a tombstone, as a deleted message does.
		expect(bySeq(updated, bare)).toMatchObject({ body: '' });
		expect(bySeq(updated, bare).deletedAt).toBeDefined();
		expect(bySeq(updated, bare).attachments).toBeUndefined();
		const { message: liveElsewhere } = await b2.next('update');
		expect(liveElsewhere.seq).toBe(bareElsewhere);
		expect(liveElsewhere.deletedAt).toBeDefined();
		expect(b2.of('update')).toHaveLength(1);

		// History, as a reload reads it (the room's tail merged over D1), and a new socket's backlog.
		const history = (await readHistory(db(), roomStub(first), first, {})).messages;
		expect(bySeq(history, captioned).attachments).toBeUndefined();
		expect(bySeq(history, captioned).body).toBe('holiday');
		expect(bySeq(history, bare).deletedAt).toBeDefined();
		expect(bySeq(history, bobs).attachments).toStrictEqual([bobsFirst.attachment]);
		const late = await connect(second, person(bob), 0);
		const backlog = late.of('backlog')[0]!.messages;
		expect(bySeq(backlog, bareElsewhere).attachments).toBeUndefined();
		expect(bySeq(backlog, bobsElsewhere).attachments).toStrictEqual([bobsSecond.attachment]);

		// D1, once the flush has run: the same rows, rewritten.
		await eventually(async () => {
			const one = await d1Attachments(first, [captioned, bare]);
			const two = await d1Attachments(second, [bareElsewhere]);
			return one[captioned] === null && one[bare] === null && two[bareElsewhere] === null;
		});
		expect(await d1Attachments(first, [bobs])).toEqual({ [bobs]: [bobsFirst.attachment] });
		expect(await d1Attachments(second, [bobsElsewhere])).toEqual({
			[bobsElsewhere]: [bobsSecond.attachment]
		});

		// The bytes and rows of every file of hers are deleted, the unsent one too, and forgotten.
		await eventually(async () => {
			const left = await Promise.all(alices.map(stored));
			return left.every((s) => !s.row && !s.object);
		});
		expect(await roomKnows(first, unsent.attachment.id)).toBe(false);
		for (const file of [bobsFirst, bobsSecond]) {
			expect(await stored(file)).toEqual({ row: true, object: true });
		}

		// Idempotent: asking again changes nothing and tells nobody anything.
		const rev = (await roomStub(first).revisions()).rev;
		b1.clear();
		expect(await roomStub(first).dropUploads(alice.id)).toBe(0);
		expect((await roomStub(first).revisions()).rev).toBe(rev);
		const check = await connect(first, person(bob), 0);
		check.close();
		expect(b1.of('update')).toEqual([]);
		for (const socket of [a1, a2, b1, b2, late]) socket.close();
	});
});
