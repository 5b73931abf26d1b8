// Messages that carry files: uploaded through the app's route (local R2 and D1), told to the room,
// attached by a `send`, and deleted with their message.
import { describe, expect, it } from 'vitest';
import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { and, eq } from 'drizzle-orm';
import { ErrorCode, MAX_ATTACHMENTS, type Attachment } from '$shared/protocol';
import { files, messages, rooms } from '$shared/db/schema';
import { readHistory } from '$lib/server/rooms/history';
import type { ChatRoom } from '../../../workers/realtime/src/chat-room';
import {
	connect,
	db,
	injectOutage,
	roomStub,
	seedRoom,
	seedUser,
	type Outage,
	type Person,
	type TestSocket
} from '../../helpers';
import { FileClient, PDF, PNG, TEXT } from '../../lib/server/files/support';

/** Uploads through the app's route; answers the file as a message carries it. */
async function upload(
	person: Person,
	roomId: string,
	bytes: Uint8Array,
	name: string,
	headers: Record<string, string> = {}
): Promise<Attachment> {
	const client = await FileClient.as(person);
	const {
		url: _url,
		width,
		height,
		placeholder,
		...rest
	} = await client.stored(roomId, bytes, name, { headers });
	const attachment: Attachment = { ...rest, kind: rest.kind as Attachment['kind'] };
	if (width !== null) attachment.width = width;
	if (height !== null) attachment.height = height;
	if (placeholder !== null) attachment.placeholder = placeholder;
	return attachment;
}

async function fileRow(id: string) {
	const [row] = await db().select().from(files).where(eq(files.id, id));
	return row;
}

/** The seq each acked clientId got, in the order the acks came. */
function acks(socket: TestSocket): [string, number][] {
	return socket.of('ack').map((ack) => [ack.clientId, ack.seq]);
}

/** Waits (polling, up to `timeoutMs`) for background work to show; fails if it never does. */
async function eventually(check: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	while (!(await check())) {
		if (Date.now() > deadline) throw new Error('timed out waiting for background work');
		await new Promise((resolve) => setTimeout(resolve, 25));
	}
}

describe('a message that carries files', () => {
	it('carries them in the ack, the broadcast, the backlog, history from the room and from D1', async () => {
		const alice = await seedUser('alice');
		const bob = await seedUser('bob');
		const room = await seedRoom(alice, bob);
		const photo = await upload(alice, room, PNG, 'beach.png', {
			'x-file-width': '1',
			'x-file-height': '1',
			'x-file-placeholder': 'AAAA'
		});
		const notes = await upload(alice, room, PDF, 'notes.pdf');
		expect(photo).toMatchObject({ width: 1, height: 1, placeholder: 'AAAA', kind: 'image' });
		expect(Object.keys(notes).sort()).toEqual(['id', 'kind', 'name', 'size', 'type']);

		const outage: Outage = { mode: 'down', attempts: 0 };
		await injectOutage(room, outage);
		const a = await connect(room, alice, 0);
		const b = await connect(room, bob, 0);
		a.send({ type: 'send', clientId: 'c1', body: 'holiday', attachments: [photo.id, notes.id] });
		expect(await a.next('ack')).toEqual({ type: 'ack', clientId: 'c1', seq: 1 });
		const { message } = await b.next('message');
		expect(message.attachments).toStrictEqual([photo, notes]);
		expect(message.body).toBe('holiday');

		const late = await connect(room, bob, 0);
		const backlog = late.of('backlog')[0]!;
		expect(backlog.messages.map((m) => m.attachments)).toStrictEqual([[photo, notes]]);

		// The flush is failing: history comes from the room's tail, D1 knows of no message yet.
		const lagging = await readHistory(db(), roomStub(room), room, {});
		expect(lagging.messages.map((m) => m.attachments)).toStrictEqual([[photo, notes]]);
		expect((await fileRow(photo.id))?.messageSeq).toBeNull();

		outage.mode = 'up';
		expect(await runDurableObjectAlarm(roomStub(room))).toBe(true);
		expect(await roomStub(room).unflushed({ limit: 10 })).toEqual([]);
		const fromD1 = await readHistory(db(), roomStub(room), room, {});
		expect(fromD1.messages.map((m) => m.attachments)).toStrictEqual([[photo, notes]]);
		expect((await fileRow(photo.id))?.messageSeq).toBe(1);
		expect((await fileRow(notes.id))?.messageSeq).toBe(1);
		const [summary] = await db()
			.select({ preview: rooms.lastMessagePreview })
			.from(rooms)
			.where(eq(rooms.id, room));
		expect(summary?.preview).toBe('📎 beach.png +1 · holiday');
		for (const socket of [a, b, late]) socket.close();
	});

	it('is stored once when resent with the same clientId', async () => {
		const alice = await seedUser('alice');
		const bob = await seedUser('bob');
		const room = await seedRoom(alice, bob);
		const photo = await upload(alice, room, PNG, 'a.png');
		const a = await connect(room, alice, 0);
		const b = await connect(room, bob, 0);
		const frame = { type: 'send', clientId: 'c1', body: '', attachments: [photo.id] };
		a.send(frame);
		await a.next('ack');
		a.send(frame);
		await a.until((f) => f.filter((x) => x.type === 'ack').length === 2);
		expect(acks(a)).toEqual([
			['c1', 1],
			['c1', 1]
		]);
		expect(a.of('error')).toEqual([]);
		expect(await roomStub(room).lastSeq()).toBe(1);
		// A later message from bob arrives after anything the resend could have broadcast.
		b.send({ type: 'send', clientId: 'b1', body: 'nice' });
		await b.next('ack');
		expect(b.of('message').map((m) => m.message.seq)).toEqual([1, 2]);
		a.close();
		b.close();
	});

	it('is quoted by its files when a reply answers one without a caption', async () => {
		const alice = await seedUser('alice');
		const bob = await seedUser('bob');
		const room = await seedRoom(alice, bob);
		const photo = await upload(alice, room, PNG, 'beach.png');
		const notes = await upload(alice, room, PDF, 'notes.pdf');
		const a = await connect(room, alice, 0);
		const b = await connect(room, bob, 0);
		a.send({ type: 'send', clientId: 'c1', body: '', attachments: [photo.id, notes.id] });
		await a.next('ack');
		b.send({ type: 'send', clientId: 'b1', body: 'lovely', replyTo: 1 });
		await b.next('ack');
		const quote = { seq: 1, snippet: '📎 beach.png +1', deleted: false };
		const live = await a.next('message', (frame) => frame.message.seq === 2);
		expect(live.message.replyTo).toMatchObject(quote);

		// From the room's tail, then from D1 once flushed: the same quote.
		const fromRoom = await readHistory(db(), roomStub(room), room, {});
		expect(fromRoom.messages.find((m) => m.seq === 2)?.replyTo).toMatchObject(quote);
		await runDurableObjectAlarm(roomStub(room));
		expect(await roomStub(room).unflushed({ limit: 10 })).toEqual([]);
		const fromD1 = await readHistory(db(), roomStub(room), room, {});
		expect(fromD1.messages.find((m) => m.seq === 2)?.replyTo).toMatchObject(quote);
		a.close();
		b.close();
	});

	it('refuses files it may not carry, storing nothing and leaving them unattached', async () => {
		const alice = await seedUser('alice');
		const bob = await seedUser('bob');
		const room = await seedRoom(alice, bob);
		const elsewhere = await seedRoom(alice);
		const mine = await upload(alice, room, PNG, 'mine.png');
		const sent = await upload(alice, room, TEXT, 'sent.txt');
		const bobs = await upload(bob, room, PDF, 'bobs.pdf');
		const otherRoom = await upload(alice, elsewhere, PNG, 'other.png');
		const a = await connect(room, alice, 0);
		const b = await connect(room, bob, 0);
		a.send({ type: 'send', clientId: 'ok1', body: 'first', attachments: [sent.id] });
		await a.next('ack');

		const refusals: [string, string[]][] = [
			['unknown', ['nope']],
			['bobs', [mine.id, bobs.id]],
			['other-room', [otherRoom.id]],
			['carried', [mine.id, sent.id]],
			['too-many', Array.from({ length: MAX_ATTACHMENTS + 1 }, (_, i) => `f${i}`)],
			['twice', [mine.id, mine.id]]
		];
		for (const [clientId, attachments] of refusals) {
			a.send({ type: 'send', clientId, body: 'caption', attachments });
		}
		a.send({ type: 'send', clientId: 'empty', body: '  ' });
		a.send({ type: 'send', clientId: 'empty-list', body: '', attachments: [] });
		await a.until((f) => f.filter((x) => x.type === 'error').length === refusals.length + 2);
		expect(a.of('error').map((e) => [e.clientId, e.code])).toEqual([
			...refusals.map(([clientId]) => [clientId, ErrorCode.InvalidAttachment]),
			['empty', ErrorCode.EmptyMessage],
			['empty-list', ErrorCode.EmptyMessage]
		]);
		expect(a.of('error').find((e) => e.clientId === 'too-many')?.message).toContain(
			String(MAX_ATTACHMENTS)
		);
		expect(await roomStub(room).lastSeq()).toBe(1);

		// Nothing was consumed: the refused file goes with the next message, captionless.
		a.send({ type: 'send', clientId: 'ok2', body: '', attachments: [mine.id] });
		expect(await a.next('ack', (x) => x.clientId === 'ok2')).toMatchObject({ seq: 2 });
		await b.until((f) => f.filter((x) => x.type === 'message').length === 2);
		expect(b.of('message').map((m) => [m.message.seq, m.message.attachments?.[0]?.id])).toEqual([
			[1, sent.id],
			[2, mine.id]
		]);

		// A caption can be removed from a message with files, not emptied from one without.
		a.send({ type: 'send', clientId: 'text', body: 'words' });
		await a.next('ack', (x) => x.clientId === 'text');
		a.send({ type: 'edit', seq: 1, body: '' });
		a.send({ type: 'edit', seq: 3, body: '' });
		expect(await a.next('error', (e) => e.seq === 3)).toMatchObject({
			code: ErrorCode.EmptyMessage
		});
		expect((await b.next('update', (u) => u.message.seq === 1)).message).toMatchObject({
			body: '',
			attachments: [sent]
		});
		a.close();
		b.close();
	});

	it('takes seqs in the order one socket sent, with files or without', async () => {
		const alice = await seedUser('alice');
		const room = await seedRoom(alice);
		const uploaded = [];
		for (let i = 0; i < 4; i++) uploaded.push(await upload(alice, room, PNG, `p${i}.png`));
		const a = await connect(room, alice, 0);
		const sends = [
			{ clientId: 'f0', body: '', attachments: [uploaded[0]!.id] },
			{ clientId: 't0', body: 'right after' },
			{ clientId: 'f1', body: 'two', attachments: [uploaded[1]!.id, uploaded[2]!.id] },
			{ clientId: 't1', body: 'x' },
			{ clientId: 't2', body: 'y' },
			{ clientId: 'f2', body: '', attachments: [uploaded[3]!.id] },
			{ clientId: 't3', body: 'z' }
		];
		for (const send of sends) a.send({ type: 'send', ...send });
		await a.until((f) => f.filter((x) => x.type === 'ack').length === sends.length);
		expect(acks(a)).toEqual(sends.map((send, i) => [send.clientId, i + 1]));
		a.close();
	});
});

describe('deleting a message with files', () => {
	it('deletes their R2 objects and D1 rows, and drops them from the tombstone', async () => {
		const alice = await seedUser('alice');
		const bob = await seedUser('bob');
		const room = await seedRoom(alice, bob);
		const photo = await upload(alice, room, PNG, 'a.png');
		const kept = await upload(alice, room, PDF, 'kept.pdf');
		const key = (await fileRow(photo.id))!.r2Key;
		const a = await connect(room, alice, 0);
		const b = await connect(room, bob, 0);
		a.send({ type: 'send', clientId: 'c1', body: 'look', attachments: [photo.id] });
		a.send({ type: 'send', clientId: 'c2', body: 'and', attachments: [kept.id] });
		await a.until((f) => f.filter((x) => x.type === 'ack').length === 2);
		await eventually(async () => (await fileRow(photo.id))?.messageSeq === 1);

		a.send({ type: 'delete', seq: 1 });
		const { message } = await b.next('update', (u) => u.message.seq === 1);
		expect(message.deletedAt).toBeDefined();
		expect(message.attachments).toBeUndefined();
		await eventually(async () => (await fileRow(photo.id)) === undefined);
		expect(await env.FILES.head(key)).toBeNull();

		// The other message's file stays; D1's copy of the message loses its files too.
		const stored = () =>
			db()
				.select({ seq: messages.seq, attachments: messages.attachments })
				.from(messages)
				.where(eq(messages.roomId, room))
				.orderBy(messages.seq);
		await eventually(async () => (await stored())[0]?.attachments === null);
		expect((await stored()).map((row) => [row.seq, row.attachments !== null])).toEqual([
			[1, false],
			[2, true]
		]);
		expect(await fileRow(kept.id)).toMatchObject({ messageSeq: 2 });
		a.close();
		b.close();
	});

	it('retries from the alarm when the bucket fails, until the files are gone', async () => {
		const alice = await seedUser('alice');
		const room = await seedRoom(alice);
		const photo = await upload(alice, room, PNG, 'a.png');
		const key = (await fileRow(photo.id))!.r2Key;
		const a = await connect(room, alice, 0);
		a.send({ type: 'send', clientId: 'c1', body: '', attachments: [photo.id] });
		await a.next('ack');

		const outage = { down: true, attempts: 0 };
		await runInDurableObject(roomStub(room), (instance: ChatRoom) => {
			const real = instance.bucket;
			instance.bucket = new Proxy(real, {
				get(target, property) {
					if (property === 'delete') {
						return async (keys: string | string[]) => {
							outage.attempts++;
							if (outage.down) throw new Error('R2: injected outage');
							return target.delete(keys);
						};
					}
					const value: unknown = Reflect.get(target, property);
					return typeof value === 'function' ? value.bind(target) : value;
				}
			});
		});

		a.send({ type: 'delete', seq: 1 });
		await a.next('update');
		await eventually(async () => outage.attempts > 0);
		// The failure changed nothing but the attempt count, and left the file marked.
		expect(await env.FILES.head(key)).not.toBeNull();
		expect(await fileRow(photo.id)).toBeDefined();
		const marked = await runInDurableObject(roomStub(room), (_instance, state) =>
			state.storage.sql.exec<{ id: string }>('SELECT id FROM files WHERE deleting = 1').toArray()
		);
		expect(marked).toEqual([{ id: photo.id }]);

		outage.down = false;
		// A retry is always scheduled while files are marked.
		expect(await runDurableObjectAlarm(roomStub(room))).toBe(true);
		expect(await env.FILES.head(key)).toBeNull();
		expect(await fileRow(photo.id)).toBeUndefined();
		expect(
			await runInDurableObject(roomStub(room), (_instance, state) =>
				state.storage.sql.exec('SELECT id FROM files').toArray()
			)
		).toEqual([]);
		expect(
			await db()
				.select()
				.from(files)
				.where(and(eq(files.roomId, room)))
		).toEqual([]);
		a.close();
	});
});
