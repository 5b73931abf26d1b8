// The outbox as a browser keeps it: entries in IndexedDB that this version of the app did not
// write (or that someone edited in the devtools) must not stop the room or the real unsent messages.
import { expect, test } from './fixtures';
import { expectConnected, message, say, timeline } from './realtime-support';
import { persona, signedInPage } from './support';
import { createRoom } from './ui-support';

test("a tampered outbox entry is skipped, and alice's real unsent message still goes out once", async ({
	browser
}) => {
	const alice = await signedInPage(browser, persona('alice'));
	const room = await createRoom(alice, 'Outbox check');
	// A second tab whose connection to the room swallows everything: its message stays unsent.
	const blackhole = await alice.context().newPage();
	await blackhole.routeWebSocket(/\/ws\/room\//, () => {});
	await blackhole.goto(room);
	await say(blackhole, 'Written before the crash');
	await expect(timeline(blackhole).locator('li.pending')).toContainText('Written before the crash');

	// Entries for the same room and person, each wrong in one way.
	await blackhole.evaluate(async () => {
		// The person's own database, `parley:<their id>`.
		const { name } = (await indexedDB.databases()).find((d) => d.name?.startsWith('parley:'))!;
		const db = await new Promise<IDBDatabase>((resolve, reject) => {
			const req = indexedDB.open(name!);
			req.onsuccess = () => resolve(req.result);
			req.onerror = () => reject(req.error);
		});
		const store = () => db.transaction('outbox', 'readwrite').objectStore('outbox');
		const real = await new Promise<Record<string, unknown>[]>((resolve, reject) => {
			const req = store().getAll();
			req.onsuccess = () => resolve(req.result as Record<string, unknown>[]);
			req.onerror = () => reject(req.error);
		});
		const { roomId, userId } = real[0]!;
		for (const bad of [
			{ clientId: 'tampered-body', roomId, userId, body: 42, createdAt: 1 },
			{ clientId: 'tampered-reply', roomId, userId, body: 'x', createdAt: 2, replyPreview: 'x' },
			{ clientId: 'tampered-time', roomId, userId, body: 'y', createdAt: 'soon' }
		]) {
			await new Promise<void>((resolve, reject) => {
				const req = store().put(bad);
				req.onsuccess = () => resolve();
				req.onerror = () => reject(req.error);
			});
		}
		db.close();
	});
	await blackhole.close();

	const errors: string[] = [];
	alice.on('pageerror', (error) => errors.push(error.message));
	await alice.reload();
	await expectConnected(alice);
	await expect(message(alice, 'Written before the crash')).toHaveCount(1);
	await expect(timeline(alice).locator('li.pending')).toHaveCount(0);
	// Still usable: a new message goes out as usual.
	await say(alice, 'And one more');
	await expect(message(alice, 'And one more')).toHaveCount(1);
	expect(errors).toEqual([]);
});
