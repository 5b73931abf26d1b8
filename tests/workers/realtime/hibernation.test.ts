// An idle room leaves memory and keeps its sockets (issue 21): the test runtime's eviction hook
// does what the runtime does to an idle object, and the room wakes for the next frame.
import { describe, expect, it } from 'vitest';
import { evictDurableObject } from 'cloudflare:test';
import { connect, roomStub, seedRoom, seedUser } from '../../helpers';

describe('hibernation', () => {
	it('lets an idle room hibernate with its sockets open, and wakes it for the next message', async () => {
		const alice = await seedUser('alice');
		const bob = await seedUser('bob');
		const room = await seedRoom(alice, bob);
		const a = await connect(room, alice, 0);
		const b = await connect(room, bob, 0);
		a.send({ type: 'send', clientId: 'before', body: 'Anyone here?' });
		const first = await a.next('ack', (f) => f.clientId === 'before');
		await b.next('message', (f) => f.message.clientId === 'before');

		// The object leaves memory; the runtime keeps both sockets open.
		await evictDurableObject(roomStub(room));

		b.send({ type: 'send', clientId: 'after', body: 'Back from a nap' });
		const second = await b.next('ack', (f) => f.clientId === 'after');
		const arrived = await a.next('message', (f) => f.message.clientId === 'after');
		expect(second.seq).toBe(first.seq + 1);
		expect(arrived.message.body).toBe('Back from a nap');
	}, 15_000);
});
