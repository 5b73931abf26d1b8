// Alice's messages with files, without a socket, IndexedDB or network: the ports record what
// would have been uploaded, sent and kept, and the uploads' ends are the calls the connection makes.
import { describe, expect, it } from 'vitest';
import { ErrorCode, type ChatMessage } from '$shared/protocol';
import type { OutboxEntry, OutboxFile } from '$lib/client/outbox';
import { PendingSends } from '$lib/client/pending-sends';
import type { UploadedFile } from '$lib/client/upload-meta';

function tab() {
	const wire: { clientId: string; attachments?: string[] }[] = [];
	const outbox = new Map<string, OutboxEntry>();
	const uploading: string[] = [];
	const dropped: string[] = [];
	const pending = new PendingSends('room-1', 'alice', {
		canTransmit: () => true,
		transmit: (entry) =>
			wire.push({ clientId: entry.clientId, attachments: entry.files?.map((f) => f.uploaded!.id) }),
		save: (entry) => outbox.set(entry.clientId, entry),
		forget: (clientId) => outbox.delete(clientId),
		upload: (entry) => {
			for (const f of entry.files ?? []) if (!f.uploaded) uploading.push(f.key);
		},
		dropFiles: (files) => dropped.push(...files.map((f) => f.key))
	});
	pending.restore([], []);
	let clock = 1_700_000_000_000;
	const write = (clientId: string, files?: OutboxFile[], body = `body of ${clientId}`) =>
		pending.write({ clientId, body, createdAt: clock++, files });
	return { pending, wire, outbox, uploading, dropped, write };
}

const file = (key: string, uploaded?: UploadedFile): OutboxFile => ({
	key,
	blob: new Blob([`bytes of ${key}`], { type: 'image/png' }),
	name: `${key}.png`,
	width: 4,
	height: 3,
	uploaded
});

const stored = (id: string): UploadedFile => ({
	id,
	name: `${id}.png`,
	type: 'image/png',
	kind: 'image',
	size: 10,
	width: 4,
	height: 3,
	placeholder: null,
	url: `/files/${id}`
});

describe('PendingSends with files', () => {
	it('sends a message once every file is stored, naming their ids in order, and keeps it meanwhile', () => {
		const { pending, wire, outbox, uploading, write } = tab();
		write('m1', [file('m1:0'), file('m1:1')], '');
		expect(uploading).toEqual(['m1:0', 'm1:1']);
		expect(wire).toEqual([]);
		expect(outbox.get('m1')?.files?.map((f) => f.blob.size)).toEqual([13, 13]);
		pending.fileStored('m1', 'm1:1', stored('f-b'));
		expect(wire).toEqual([]);
		expect(outbox.get('m1')?.files?.[1]?.uploaded?.id).toBe('f-b');
		pending.fileStored('m1', 'm1:0', stored('f-a'));
		expect(wire).toEqual([{ clientId: 'm1', attachments: ['f-a', 'f-b'] }]);
		// A late or repeated report changes nothing and sends nothing again.
		pending.fileStored('m1', 'm1:0', stored('f-other'));
		pending.fileStored('m1', 'nope', stored('f-x'));
		expect(wire).toHaveLength(1);
		pending.acked('m1', true);
		expect(outbox.size).toBe(0);
		expect(pending.list).toEqual([]);
	});

	it('sends at once what the composer had already uploaded', () => {
		const { wire, uploading, write } = tab();
		write('m1', [file('m1:0', stored('f-a'))]);
		expect(uploading).toEqual([]);
		expect(wire).toEqual([{ clientId: 'm1', attachments: ['f-a'] }]);
	});

	it('does not hold later messages behind a message whose files are uploading', () => {
		const { pending, wire, write } = tab();
		write('photo', [file('photo:0')]);
		write('text');
		expect(wire.map((w) => w.clientId)).toEqual(['text']);
		pending.fileStored('photo', 'photo:0', stored('f-a'));
		expect(wire.map((w) => w.clientId)).toEqual(['text', 'photo']);
	});

	it('fails a message whose file the server refused, keeps it, and uploads only what is missing on retry', () => {
		const { pending, wire, outbox, uploading, write } = tab();
		write('m1', [file('m1:0'), file('m1:1')]);
		pending.fileStored('m1', 'm1:0', stored('f-a'));
		pending.fileFailed('m1', 'm1:1', 'Files can be up to 25 MB.');
		expect(pending.list[0]).toMatchObject({
			status: 'failed',
			error: 'm1:1.png: Files can be up to 25 MB.'
		});
		expect(outbox.get('m1')?.failed).toBe('m1:1.png: Files can be up to 25 MB.');
		uploading.length = 0;
		pending.retry('m1');
		expect(uploading).toEqual(['m1:1']);
		pending.fileStored('m1', 'm1:1', stored('f-b'));
		expect(wire).toEqual([{ clientId: 'm1', attachments: ['f-a', 'f-b'] }]);
	});

	it('uploads the files again on retry after the room refused them (invalid_attachment)', () => {
		const { pending, uploading, write } = tab();
		write('m1', [file('m1:0', stored('f-old'))]);
		pending.refused(
			{
				type: 'error',
				code: ErrorCode.InvalidAttachment,
				message: 'Upload it again.',
				clientId: 'm1'
			},
			Date.now()
		);
		expect(pending.list[0]?.status).toBe('failed');
		expect(pending.list[0]?.files?.[0]?.uploaded).toBeUndefined();
		pending.retry('m1');
		expect(uploading).toEqual(['m1:0']);
	});

	it('discarding a message discards its files', () => {
		const { pending, outbox, dropped, write } = tab();
		write('m1', [file('m1:0'), file('m1:1')]);
		pending.discard('m1');
		expect(dropped).toEqual(['m1:0', 'm1:1']);
		expect(outbox.size).toBe(0);
		expect(pending.list).toEqual([]);
	});

	it('after a reload resumes the uploads the outbox kept, and sends the message once', () => {
		const wire: { clientId: string }[] = [];
		const uploading: string[] = [];
		// A fresh tab: what the outbox held comes back through `restore`.
		const fresh = new PendingSends('room-1', 'alice', {
			canTransmit: () => true,
			transmit: (entry) => wire.push({ clientId: entry.clientId }),
			save: () => undefined,
			forget: () => undefined,
			upload: (entry) =>
				uploading.push(...entry.files!.filter((f) => !f.uploaded).map((f) => f.key))
		});
		const kept: OutboxEntry = {
			clientId: 'm1',
			roomId: 'room-1',
			userId: 'alice',
			body: 'caption',
			createdAt: 1,
			files: [file('m1:0', stored('f-a')), file('m1:1')]
		};
		const inTimeline: ChatMessage[] = [];
		fresh.restore([kept], inTimeline);
		expect(uploading).toEqual(['m1:1']);
		expect(fresh.list[0]?.files).toHaveLength(2);
		fresh.fileStored('m1', 'm1:1', stored('f-b'));
		fresh.fileStored('m1', 'm1:1', stored('f-b'));
		expect(wire).toEqual([{ clientId: 'm1' }]);
	});

	it('in an encrypted room, encrypts a message with files once they are stored, once, and sends only the ciphertext', async () => {
		const wire: { clientId: string; body: string; attachments?: string[] }[] = [];
		const outbox = new Map<string, OutboxEntry>();
		const sealing: OutboxEntry[] = [];
		let sealed!: (value: { body: string; mentions: string[] }) => void;
		const pending = new PendingSends('room-1', 'alice', {
			canTransmit: () => true,
			transmit: (entry) =>
				wire.push({
					clientId: entry.clientId,
					body: entry.body,
					attachments: entry.files?.map((f) => f.uploaded!.id)
				}),
			save: (entry) => outbox.set(entry.clientId, entry),
			forget: (clientId) => outbox.delete(clientId),
			upload: () => undefined,
			seal: (entry) => {
				sealing.push(entry);
				return new Promise((resolve) => (sealed = resolve));
			}
		});
		pending.restore([], []);
		const secret = { key: 'k', iv: 'i' };
		pending.write({
			clientId: 'm1',
			body: 'the plans',
			createdAt: 1,
			files: [{ ...file('m1:0'), secret }],
			sealLater: true
		});
		expect(sealing).toEqual([]);
		pending.fileStored('m1', 'm1:0', stored('f-a'));
		// Stored again (a second tab's report): still encrypted only once.
		pending.fileStored('m1', 'm1:0', stored('f-a'));
		expect(sealing.map((e) => [e.body, e.files?.[0]?.uploaded?.id, e.files?.[0]?.secret])).toEqual([
			['the plans', 'f-a', secret]
		]);
		expect(wire).toEqual([]);
		sealed({ body: 'CIPHERTEXT', mentions: ['bob'] });
		await Promise.resolve();
		await Promise.resolve();
		expect(wire).toEqual([{ clientId: 'm1', body: 'CIPHERTEXT', attachments: ['f-a'] }]);
		// What the outbox keeps now is the ciphertext: a reload sends it as it is.
		expect(outbox.get('m1')).toMatchObject({ body: 'CIPHERTEXT', mentions: ['bob'] });
		expect(outbox.get('m1')?.sealLater).toBeUndefined();
	});

	it('in an encrypted room, a message that could not be encrypted waits for the person, unsent', async () => {
		const wire: string[] = [];
		const pending = new PendingSends('room-1', 'alice', {
			canTransmit: () => true,
			transmit: (entry) => wire.push(entry.clientId),
			save: () => undefined,
			forget: () => undefined,
			seal: () => Promise.reject(new Error('This device is not in the conversation yet.'))
		});
		pending.restore([], []);
		pending.write({
			clientId: 'm1',
			body: 'hi',
			createdAt: 1,
			files: [{ ...file('m1:0', stored('f-a')), secret: { key: 'k', iv: 'i' } }],
			sealLater: true
		});
		await new Promise((resolve) => setTimeout(resolve, 0));
		expect(wire).toEqual([]);
		expect(pending.list[0]).toMatchObject({
			status: 'failed',
			error: 'This device is not in the conversation yet.'
		});
	});
});
