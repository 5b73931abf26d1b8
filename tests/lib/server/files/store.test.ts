// The store's own guarantees, below the routes: an upload whose row cannot be written leaves no
// object behind, the quota holds when the row is written, and deleting a file removes both parts.
import { describe, expect, it } from 'vitest';
import { env } from 'cloudflare:workers';
import { eq } from 'drizzle-orm';
import { files } from '$shared/db/schema';
import { fileLimits } from '$lib/server/files/limits';
import { deleteFile, openFile, storeUpload, type FileStoreDeps } from '$lib/server/files/store';
import type { Db } from '$lib/server/db';
import { db, seedRoom, seedUser } from '../../../helpers';
import { PNG, TEXT, snapshot } from './support';

const meta = { name: 'a.txt' };

function deps(overrides: Partial<FileStoreDeps> = {}): FileStoreDeps {
	return { db: db(), bucket: env.FILES, limits: fileLimits({}), ...overrides };
}

/** A Db whose raw statements (the row's insert) fail, as D1 does when it is unavailable. */
function failingInserts(real: Db): Db {
	return new Proxy(real, {
		get(target, property) {
			if (property === 'run') {
				return () => Promise.reject(new Error('D1_ERROR: injected failure'));
			}
			const value: unknown = Reflect.get(target, property);
			return typeof value === 'function' ? value.bind(target) : value;
		}
	});
}

describe('storeUpload', () => {
	it('deletes the object again when the row cannot be written', async () => {
		const alice = await seedUser('alice');
		const roomId = await seedRoom(alice);
		const before = await snapshot();
		await expect(
			storeUpload(deps({ db: failingInserts(db()) }), {
				uploaderId: alice.id,
				roomId,
				body: new Response(TEXT).body,
				declaredLength: TEXT.length,
				meta
			})
		).rejects.toThrow(/injected failure/);
		expect(await snapshot()).toEqual(before);
	});

	it('holds the quota when the row is written, whatever the request declared', async () => {
		const alice = await seedUser('alice');
		const roomId = await seedRoom(alice);
		const limits = { maxBytes: 1000, quotaBytes: TEXT.length * 2 - 1 };
		const upload = () =>
			storeUpload(deps({ limits }), {
				uploaderId: alice.id,
				roomId,
				body: new Response(TEXT).body,
				declaredLength: null,
				meta
			});
		// Two at once: the second row would pass the quota, so only one of them is kept.
		const results = await Promise.all([upload(), upload()]);
		expect(results.filter((r) => r.ok)).toHaveLength(1);
		expect(results.find((r) => !r.ok)).toMatchObject({ status: 413, code: 'quota_exceeded' });
		const rows = await db().select().from(files).where(eq(files.uploaderId, alice.id));
		expect(rows).toHaveLength(1);
		const keys = (await env.FILES.list()).objects.map((o) => o.key);
		expect(keys).toContain(rows[0]!.r2Key);
		expect(keys.filter((k) => k === rows[0]!.r2Key)).toHaveLength(1);
	});
});

describe('openFile and deleteFile', () => {
	it('opens a range for a reader, and deleting removes the object and the row', async () => {
		const alice = await seedUser('alice');
		const roomId = await seedRoom(alice);
		const before = await snapshot();
		const stored = await storeUpload(deps(), {
			uploaderId: alice.id,
			roomId,
			body: new Response(PNG).body,
			declaredLength: PNG.length,
			meta: { name: 'a.png' }
		});
		if (!stored.ok) throw new Error(stored.message);

		const opened = await openFile(deps(), stored.file.id, alice.id, { offset: 1, length: 3 });
		if (!opened.ok) throw new Error(opened.message);
		expect(new TextDecoder().decode(await opened.body.arrayBuffer())).toBe('PNG');
		expect(await openFile(deps(), stored.file.id, null)).toMatchObject({ status: 404 });

		expect(await deleteFile(deps(), stored.file.id)).toBe(true);
		expect(await snapshot()).toEqual(before);
		expect(await deleteFile(deps(), stored.file.id)).toBe(false);
		expect(await openFile(deps(), stored.file.id, alice.id)).toMatchObject({ status: 404 });
	});
});
