// The file cleanup: the realtime worker's cron deletes, from the local R2 and D1, files whose room
// (or uploader) is gone and uploads never attached after a day; a room stops letting a send attach
// an upload before the cleanup may delete it, and forgets it.
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
	createExecutionContext,
	createScheduledController,
	runInDurableObject,
	waitOnExecutionContext
} from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { eq } from 'drizzle-orm';
import { ErrorCode, type Attachment } from '$shared/protocol';
import { files, rooms, uploadParts, uploads, users } from '$shared/db/schema';
import {
	MULTIPART_PART_BYTES,
	UNATTACHED_FILE_CLAIM_MS,
	UNATTACHED_FILE_MAX_AGE_MS,
	UNFINISHED_UPLOAD_MAX_AGE_MS,
	UNUSED_PICTURE_MAX_AGE_MS
} from '$shared/files';
import worker from '../../../workers/realtime/src/index';
import type { ChatRoom } from '../../../workers/realtime/src/chat-room';
import { cleanUpFiles } from '../../../workers/realtime/src/file-cleanup';
import { RoomFiles, SWEEP_INTERVAL_MS } from '../../../workers/realtime/src/room-files';
import { connect, db, roomStub, seedRoom, seedUser, type Person } from '../../helpers';
import { PASSWORD, registerPerson, signedInBrowser } from '../../support/accounts';
import { FileClient, PNG, TEXT } from '../../lib/server/files/support';
import { actions as accountActions } from '../../../src/routes/settings/account/+page.server';

const stores = () => ({ db: env.DB, bucket: env.FILES });

afterEach(() => {
	vi.restoreAllMocks();
});

type Stored = { id: string; r2Key: string };

/** A file as an upload leaves it (object in R2, row in D1), written directly. */
async function storedFile(
	uploaderId: string,
	roomId: string | null,
	{
		age = 0,
		messageSeq = null,
		purpose = 'attachment'
	}: {
		age?: number;
		messageSeq?: number | null;
		purpose?: 'attachment' | 'avatar' | 'icon';
	} = {}
): Promise<Stored> {
	const id = crypto.randomUUID();
	const r2Key = `f/${crypto.randomUUID()}`;
	await env.FILES.put(r2Key, 'bytes');
	await db()
		.insert(files)
		.values({
			id,
			r2Key,
			uploaderId,
			roomId,
			name: 'notes.txt',
			type: 'text/plain',
			kind: 'document',
			size: 5,
			createdAt: Date.now() - age,
			messageSeq,
			purpose
		});
	return { id, r2Key };
}

/** Whether the file's row and its object are still there. */
async function presence(file: Stored): Promise<{ row: boolean; object: boolean }> {
	const rows = await db().select({ id: files.id }).from(files).where(eq(files.id, file.id));
	return { row: rows.length === 1, object: (await env.FILES.head(file.r2Key)) !== null };
}

const KEPT = { row: true, object: true };
const GONE = { row: false, object: false };

/** The cron as the runtime fires it: the worker's `scheduled` handler. */
async function runCron(): Promise<void> {
	const ctx = createExecutionContext();
	await worker.scheduled!(createScheduledController({ scheduledTime: Date.now() }), env, ctx);
	await waitOnExecutionContext(ctx);
}

/** Whatever earlier tests left for the cleanup, deleted, so counts below are this test's own. */
async function drain(): Promise<void> {
	while ((await cleanUpFiles(stores(), Date.now())).roomless > 0);
	while ((await cleanUpFiles(stores(), Date.now())).unattached > 0);
	while ((await cleanUpFiles(stores(), Date.now())).unused > 0);
	while ((await cleanUpFiles(stores(), Date.now())).unfinished > 0);
}

describe('the file cleanup', () => {
	it('deletes room-less files and day-old unattached uploads, object then row; keeps the rest', async () => {
		const alice = await seedUser('alice');
		const room = await seedRoom(alice);
		const roomless = await storedFile(alice.id, null, { messageSeq: 3 });
		const expired = await storedFile(alice.id, room, { age: UNATTACHED_FILE_MAX_AGE_MS + 1000 });
		const fresh = await storedFile(alice.id, room, { age: UNATTACHED_FILE_MAX_AGE_MS - 60_000 });
		const oldButAttached = await storedFile(alice.id, room, {
			age: 30 * UNATTACHED_FILE_MAX_AGE_MS,
			messageSeq: 1
		});
		const log = vi.spyOn(console, 'log');

		await runCron();
		expect(await presence(roomless)).toEqual(GONE);
		expect(await presence(expired)).toEqual(GONE);
		expect(await presence(fresh)).toEqual(KEPT);
		expect(await presence(oldButAttached)).toEqual(KEPT);
		const lines = log.mock.calls.map((call) => String(call[0]));
		expect(lines).toHaveLength(1);
		expect(lines[0]).toMatch(/^file cleanup: deleted \d+ files? \(\d+ without a room, \d+ never/);

		// A run with nothing to do says nothing.
		log.mockClear();
		expect(await cleanUpFiles(stores(), Date.now())).toEqual({
			roomless: 0,
			unattached: 0,
			unused: 0,
			unfinished: 0
		});
		expect(log).not.toHaveBeenCalled();
	});

	it('keeps pictures a person or room names, and deletes the others after an hour', async () => {
		await drain();
		const alice = await seedUser('alice');
		const room = await seedRoom(alice);
		const old = { age: UNUSED_PICTURE_MAX_AGE_MS + 1000 };
		// Pictures have no message, and a profile picture no room: the attachment rules skip them.
		const avatar = await storedFile(alice.id, null, { ...old, purpose: 'avatar' });
		const icon = await storedFile(alice.id, room, { ...old, purpose: 'icon' });
		await db().update(users).set({ avatarKey: avatar.id }).where(eq(users.id, alice.id));
		await db().update(rooms).set({ iconKey: icon.id }).where(eq(rooms.id, room));
		const replaced = await storedFile(alice.id, null, { ...old, purpose: 'avatar' });
		const oldIcon = await storedFile(alice.id, room, { ...old, purpose: 'icon' });
		const justStored = await storedFile(alice.id, null, { purpose: 'avatar' });

		expect(await cleanUpFiles(stores(), Date.now())).toEqual({
			roomless: 0,
			unattached: 0,
			unused: 2,
			unfinished: 0
		});
		expect(await presence(avatar)).toEqual(KEPT);
		expect(await presence(icon)).toEqual(KEPT);
		expect(await presence(justStored)).toEqual(KEPT);
		expect(await presence(replaced)).toEqual(GONE);
		expect(await presence(oldIcon)).toEqual(GONE);
	});

	it('leaves everything for the next run when the bucket fails', async () => {
		const alice = await seedUser('alice');
		const roomless = await storedFile(alice.id, null);
		const failing = new Proxy(env.FILES, {
			get(target, key) {
				if (key === 'delete') return () => Promise.reject(new Error('R2 is down'));
				const value: unknown = Reflect.get(target, key);
				return typeof value === 'function' ? value.bind(target) : value;
			}
		});
		await expect(cleanUpFiles({ db: env.DB, bucket: failing }, Date.now())).rejects.toThrow(
			'R2 is down'
		);
		expect(await presence(roomless)).toEqual(KEPT);

		await cleanUpFiles(stores(), Date.now());
		expect(await presence(roomless)).toEqual(GONE);
	});

	it('does a bounded amount of work per run, and the next run goes on', async () => {
		await drain();
		const alice = await seedUser('alice');
		const room = await seedRoom(alice);
		const roomless = await Promise.all(Array.from({ length: 5 }, () => storedFile(alice.id, null)));
		const expired = await Promise.all(
			Array.from({ length: 2 }, () =>
				storedFile(alice.id, room, { age: UNATTACHED_FILE_MAX_AGE_MS + 1000 })
			)
		);
		const bounds = { batches: 2, batchSize: 2 };
		expect(await cleanUpFiles(stores(), Date.now(), bounds)).toEqual({
			roomless: 4,
			unattached: 0,
			unused: 0,
			unfinished: 0
		});
		const left = await Promise.all([...roomless, ...expired].map(presence));
		expect(left.filter((p) => p.row && p.object)).toHaveLength(3);

		expect(await cleanUpFiles(stores(), Date.now(), { batches: 3, batchSize: 2 })).toEqual({
			roomless: 1,
			unattached: 2,
			unused: 0,
			unfinished: 0
		});
		for (const file of [...roomless, ...expired]) expect(await presence(file)).toEqual(GONE);
	});
});

/** Uploads through the app's route (which tells the room); answers the description and URL. */
async function upload(person: Person, roomId: string, bytes: Uint8Array, name: string) {
	const {
		url,
		width: _w,
		height: _h,
		placeholder: _p,
		...rest
	} = await (await FileClient.as(person)).stored(roomId, bytes, name);
	return { url, attachment: { ...rest, kind: rest.kind as Attachment['kind'] } };
}

/** Backdates the room's own record of a file. */
function backdateInRoom(roomId: string, fileId: string, age: number): Promise<void> {
	return runInDurableObject(roomStub(roomId), (_instance, state) => {
		state.storage.sql.exec(
			'UPDATE files SET created_at = ? WHERE id = ?',
			Date.now() - age,
			fileId
		);
	});
}

function roomKnows(roomId: string, fileId: string): Promise<boolean> {
	return runInDurableObject(
		roomStub(roomId),
		(_instance, state) =>
			state.storage.sql.exec('SELECT 1 FROM files WHERE id = ?', fileId).toArray().length > 0
	);
}

/**
 * An upload in parts as the upload routes leave it: its R2 multipart upload with `parts` parts
 * sent (none: the first part never arrived, so R2 has nothing yet), and its rows in D1.
 */
async function openUpload(
	uploaderId: string,
	roomId: string | null,
	{ age = 0, parts = 1 }: { age?: number; parts?: number } = {}
) {
	const id = crypto.randomUUID();
	const r2Key = `f/${crypto.randomUUID()}`;
	let r2UploadId = '';
	const sent: { partNumber: number; etag: string; size: number }[] = [];
	if (parts > 0) {
		const r2 = await env.FILES.createMultipartUpload(r2Key, {
			httpMetadata: { contentType: 'text/plain' }
		});
		r2UploadId = r2.uploadId;
		for (let n = 1; n <= parts; n++) {
			const part = await r2.uploadPart(n, new Uint8Array(MULTIPART_PART_BYTES).fill(97));
			sent.push({ ...part, size: MULTIPART_PART_BYTES });
		}
	}
	await db()
		.insert(uploads)
		.values({
			id,
			r2Key,
			r2UploadId,
			uploaderId,
			roomId,
			name: 'big.txt',
			size: 3 * MULTIPART_PART_BYTES,
			partSize: MULTIPART_PART_BYTES,
			type: parts > 0 ? 'text/plain' : null,
			kind: parts > 0 ? 'document' : null,
			createdAt: Date.now() - age
		});
	if (sent.length > 0) {
		await db()
			.insert(uploadParts)
			.values(sent.map((p) => ({ uploadId: id, ...p })));
	}
	return { id, r2Key, r2UploadId };
}

/** Whether the upload's rows are there, and whether R2 still takes parts for it. */
async function uploadPresence(upload: Awaited<ReturnType<typeof openUpload>>) {
	const row = (await db().select().from(uploads).where(eq(uploads.id, upload.id))).length === 1;
	const parts = (await db().select().from(uploadParts).where(eq(uploadParts.uploadId, upload.id)))
		.length;
	if (!upload.r2UploadId) return { row, parts, r2: 'none' };
	const r2 = await env.FILES.resumeMultipartUpload(upload.r2Key, upload.r2UploadId)
		.uploadPart(10_000, 'x')
		.then(
			() => 'open',
			() => 'aborted'
		);
	return { row, parts, r2 };
}

describe('the cleanup and unfinished uploads in parts', () => {
	it('aborts those unfinished for a day and those whose room is gone; keeps the others', async () => {
		await drain();
		const alice = await seedUser('alice');
		const room = await seedRoom(alice);
		const old = { age: UNFINISHED_UPLOAD_MAX_AGE_MS + 1000 };
		const stale = await openUpload(alice.id, room, { ...old, parts: 2 });
		const neverSent = await openUpload(alice.id, room, { ...old, parts: 0 });
		const roomless = await openUpload(alice.id, null);
		const fresh = await openUpload(alice.id, room, { age: UNFINISHED_UPLOAD_MAX_AGE_MS - 60_000 });
		const log = vi.spyOn(console, 'log');

		expect(await cleanUpFiles(stores(), Date.now())).toEqual({
			roomless: 0,
			unattached: 0,
			unused: 0,
			unfinished: 3
		});
		expect(log.mock.calls.map((call) => String(call[0]))).toEqual([
			'file cleanup: deleted 0 files (0 without a room, 0 never attached, 0 unused pictures), ' +
				'aborted 3 unfinished uploads'
		]);
		for (const upload of [stale, roomless]) {
			expect(await uploadPresence(upload)).toEqual({ row: false, parts: 0, r2: 'aborted' });
		}
		expect(await uploadPresence(neverSent)).toEqual({ row: false, parts: 0, r2: 'none' });
		expect(await uploadPresence(fresh)).toEqual({ row: true, parts: 1, r2: 'open' });
		// Nothing of theirs is left in the bucket: an aborted upload leaves no object.
		for (const upload of [stale, roomless]) expect(await env.FILES.head(upload.r2Key)).toBeNull();
	});

	it('aborts a bounded number per run, and one R2 no longer knows is done already', async () => {
		await drain();
		const alice = await seedUser('alice');
		const old = { age: UNFINISHED_UPLOAD_MAX_AGE_MS + 1000, parts: 0 };
		const idle = await Promise.all(
			Array.from({ length: 3 }, () => openUpload(alice.id, null, old))
		);
		const gone = await openUpload(alice.id, null);
		await env.FILES.resumeMultipartUpload(gone.r2Key, gone.r2UploadId).abort();
		expect(await cleanUpFiles(stores(), Date.now(), { batches: 1, batchSize: 2 })).toMatchObject({
			unfinished: 2
		});
		expect(await cleanUpFiles(stores(), Date.now(), { batches: 5, batchSize: 2 })).toMatchObject({
			unfinished: 2
		});
		for (const upload of [...idle, gone]) {
			expect((await uploadPresence(upload)).row).toBe(false);
		}
	});
});

describe('a room and an upload the cleanup may delete', () => {
	it('refuses to attach it from the margin before the cleanup age on, and forgets it', async () => {
		const alice = await seedUser('alice');
		const room = await seedRoom(alice);
		const stale = await upload(alice, room, PNG, 'stale.png');
		const nearly = await upload(alice, room, TEXT, 'nearly.txt');
		await backdateInRoom(room, stale.attachment.id, UNATTACHED_FILE_CLAIM_MS + 1000);
		await backdateInRoom(room, nearly.attachment.id, UNATTACHED_FILE_CLAIM_MS - 60_000);
		expect(UNATTACHED_FILE_CLAIM_MS).toBeLessThan(UNATTACHED_FILE_MAX_AGE_MS);

		const a = await connect(room, alice, 0);
		a.send({ type: 'send', clientId: 'late', body: '', attachments: [stale.attachment.id] });
		expect(await a.next('error')).toMatchObject({
			clientId: 'late',
			code: ErrorCode.InvalidAttachment
		});
		expect(await roomKnows(room, stale.attachment.id)).toBe(false);
		expect(await roomStub(room).lastSeq()).toBe(0);

		a.send({ type: 'send', clientId: 'in-time', body: '', attachments: [nearly.attachment.id] });
		expect(await a.next('ack')).toMatchObject({ clientId: 'in-time', seq: 1 });
		a.close();
	});

	it('forgets expired uploads when a new one arrives, at most once per sweep interval', async () => {
		const alice = await seedUser('alice');
		const room = await seedRoom(alice);
		const [old, attached, later] = await Promise.all(
			['old.txt', 'attached.txt', 'later.txt'].map((name) => upload(alice, room, TEXT, name))
		);
		const a = await connect(room, alice, 0);
		a.send({ type: 'send', clientId: 'c1', body: '', attachments: [attached!.attachment.id] });
		await a.next('ack');
		a.close();
		for (const file of [old!, attached!]) {
			await backdateInRoom(room, file.attachment.id, UNATTACHED_FILE_CLAIM_MS + 1000);
		}

		await runInDurableObject(roomStub(room), (_instance, state) => {
			const roomFiles = new RoomFiles(state.storage.sql);
			const known = (id: string) =>
				state.storage.sql.exec('SELECT 1 FROM files WHERE id = ?', id).toArray().length > 0;
			const now = Date.now();
			const next = (n: number): Attachment => ({ ...later!.attachment, id: `new-${n}-${room}` });
			roomFiles.add(alice.id, next(1), now);
			expect(known(old!.attachment.id)).toBe(false);
			// A file a message carries is the message's: never swept.
			expect(known(attached!.attachment.id)).toBe(true);
			expect(known(later!.attachment.id)).toBe(true);

			state.storage.sql.exec(
				'UPDATE files SET created_at = ? WHERE id = ?',
				now - UNATTACHED_FILE_CLAIM_MS - 1000,
				later!.attachment.id
			);
			roomFiles.add(alice.id, next(2), now + 1000);
			expect(known(later!.attachment.id)).toBe(true);
			roomFiles.add(alice.id, next(3), now + SWEEP_INTERVAL_MS);
			expect(known(later!.attachment.id)).toBe(false);
		});
	});
});

describe("deleting an account and the person's uploads", () => {
	it('stops serving them at once, and the cleanup deletes them when the room could not', async () => {
		const alice = await registerPerson('alice');
		const bob = await registerPerson('bob');
		const person = (p: typeof alice) => ({ id: p.id, name: p.displayName, username: p.username });
		const room = await seedRoom(person(alice), person(bob));
		const sent = await upload(person(alice), room, PNG, 'sent.png');
		const unsent = await upload(person(alice), room, TEXT, 'unsent.txt');
		const bobs = await upload(person(bob), room, TEXT, 'bobs.txt');
		const a = await connect(room, person(alice), 0);
		a.send({ type: 'send', clientId: 'c1', body: 'look', attachments: [sent.attachment.id] });
		await a.next('ack');
		const bobClient = await FileClient.as(person(bob));
		expect((await bobClient.download(sent.url)).status).toBe(200);
		const keys = await db()
			.select({ id: files.id, r2Key: files.r2Key })
			.from(files)
			.where(eq(files.uploaderId, alice.id));
		expect(keys).toHaveLength(2);

		// The room strips and deletes her files itself (account-uploads.test.ts); here its bucket
		// fails, and the cleanup job is the safety net.
		await runInDurableObject(roomStub(room), (instance: ChatRoom) => {
			instance.bucket = {
				delete: () => Promise.reject(new Error('R2 is down'))
			} as unknown as R2Bucket;
		});
		const browser = await signedInBrowser(alice);
		expect(
			await browser.call(accountActions.delete!, {
				path: '/settings/account?/delete',
				form: { confirm: PASSWORD }
			})
		).toMatchObject({ kind: 'redirect' });

		for (const file of [sent, unsent]) {
			expect((await bobClient.download(file.url)).status).toBe(404);
		}
		expect((await bobClient.download(bobs.url)).status).toBe(200);
		for (const key of keys) expect(await presence(key)).toEqual(KEPT);

		await runCron();
		for (const key of keys) expect(await presence(key)).toEqual(GONE);
		expect((await bobClient.download(bobs.url)).status).toBe(200);
		a.close();
	});

	it('keeps a room icon she set, and lets the cleanup abort her unfinished uploads', async () => {
		const alice = await registerPerson('alice');
		const bob = await registerPerson('bob');
		const person = (p: typeof alice) => ({ id: p.id, name: p.displayName, username: p.username });
		const room = await seedRoom(person(alice), person(bob));
		const icon = await storedFile(alice.id, room, { purpose: 'icon' });
		await db().update(rooms).set({ iconKey: icon.id }).where(eq(rooms.id, room));
		const uploadId = crypto.randomUUID();
		await db()
			.insert(uploads)
			.values({
				id: uploadId,
				r2Key: `f/${crypto.randomUUID()}`,
				r2UploadId: '',
				uploaderId: alice.id,
				roomId: room,
				name: 'big.zip',
				size: 20_000_000,
				partSize: 5 * 1024 * 1024,
				createdAt: Date.now()
			});

		const browser = await signedInBrowser(alice);
		expect(
			await browser.call(accountActions.delete!, {
				path: '/settings/account?/delete',
				form: { confirm: PASSWORD }
			})
		).toMatchObject({ kind: 'redirect' });

		const [open] = await db().select().from(uploads).where(eq(uploads.id, uploadId));
		expect(open?.roomId).toBeNull();
		await runCron();
		expect(await presence(icon)).toEqual(KEPT);
		expect(await db().select().from(uploads).where(eq(uploads.id, uploadId))).toEqual([]);
		const bobClient = await FileClient.as(person(bob));
		expect((await bobClient.download(`/files/${icon.id}`)).status).toBe(200);
	});
});
