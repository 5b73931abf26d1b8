// Alice's unsent messages without a socket or IndexedDB: the ports record what would have gone on
// the wire and into the outbox, and the room's answers are the calls the connection makes for them.
import { describe, expect, it } from 'vitest';
import { ErrorCode, type ChatMessage, type ServerFrame } from '$shared/protocol';
import type { OutboxEntry } from '$lib/client/outbox';
import { PendingSends } from '$lib/client/pending-sends';
import { SendWindow } from '$lib/client/send-window';

type ErrorFrame = Extract<ServerFrame, { type: 'error' }>;

/** Alice's tab: a socket that is `open` or not, the frames it carried, the outbox it kept. */
function tab(window?: SendWindow<OutboxEntry>) {
	const wire: string[] = [];
	const outbox = new Map<string, OutboxEntry>();
	const socket = { open: true };
	const pending = new PendingSends(
		'room-1',
		'alice',
		{
			canTransmit: () => socket.open,
			transmit: (entry) => wire.push(entry.clientId),
			save: (entry) => outbox.set(entry.clientId, entry),
			forget: (clientId) => outbox.delete(clientId)
		},
		window
	);
	let clock = 1_700_000_000_000;
	const write = (clientId: string, replyTo?: ChatMessage) =>
		pending.write({ clientId, body: `body of ${clientId}`, replyTo, createdAt: clock++ });
	const shown = () => pending.list.map((m) => `${m.clientId}:${m.status}`);
	/** The connection dropped, and a new socket is open. */
	const reconnect = () => pending.reconnected();
	return { pending, wire, outbox, socket, write, shown, reconnect };
}

/** The room's copy of alice's message `clientId`, stored at `seq`. */
function stored(clientId: string, seq: number): ChatMessage {
	return {
		seq,
		clientId,
		senderId: 'alice',
		senderName: 'Alice',
		kind: 'text',
		body: `body of ${clientId}`,
		createdAt: 1_700_000_000_000 + seq,
		rev: seq
	};
}

const refusal = (extra: Partial<ErrorFrame>): ErrorFrame => ({
	type: 'error',
	code: ErrorCode.RateLimited,
	message: 'Slow down.',
	...extra
});

describe('PendingSends', () => {
	it('shows, keeps and sends each message at once, in the order written, once the outbox is read', () => {
		const { pending, wire, outbox, write, shown } = tab();
		write('m1');
		write('m2');
		// What an earlier visit left goes first: nothing is sent before the outbox is read.
		expect(wire).toEqual([]);
		expect(shown()).toEqual(['m1:pending', 'm2:pending']);
		expect([...outbox.keys()]).toEqual(['m1', 'm2']);
		pending.restore([], []);
		write('m3');
		expect(wire).toEqual(['m1', 'm2', 'm3']);
	});

	it('merges what the outbox held by when it was written, and lets go what the room already has', () => {
		const { pending, wire, outbox, write, shown } = tab();
		write('now');
		const earlier = (clientId: string, createdAt: number, failed?: string): OutboxEntry => ({
			clientId,
			roomId: 'room-1',
			userId: 'alice',
			body: clientId,
			createdAt,
			failed
		});
		const left = [
			earlier('old1', 1),
			earlier('old2', 2),
			earlier('refused', 3, 'Too long.'),
			earlier('taken', 4)
		];
		for (const entry of left) outbox.set(entry.clientId, entry);
		pending.restore(left, [stored('taken', 7)]);
		expect(shown()).toEqual(['old1:pending', 'old2:pending', 'refused:failed', 'now:pending']);
		// The refused one waits for alice; the one the room has is not sent again.
		expect(wire).toEqual(['old1', 'old2', 'now']);
		expect(outbox.has('taken')).toBe(false);
	});

	it('sends what was written offline when the socket opens, in order, each once', () => {
		const { pending, wire, socket, write } = tab();
		pending.restore(null, []);
		socket.open = false;
		write('m1');
		write('m2');
		write('m3');
		expect(wire).toEqual([]);
		socket.open = true;
		pending.reconnected();
		expect(wire).toEqual(['m1', 'm2', 'm3']);
	});

	it('after a reconnect resends everything unacknowledged from the first, in order, and nothing acked', () => {
		const { pending, wire, outbox, write, reconnect, shown } = tab();
		pending.restore(null, []);
		for (const id of ['m1', 'm2', 'm3', 'm4']) write(id);
		pending.acked('m1', false);
		wire.length = 0;
		reconnect();
		expect(wire).toEqual(['m2', 'm3', 'm4']);
		expect(outbox.has('m1')).toBe(false);
		expect(shown()).toEqual(['m1:sent', 'm2:pending', 'm3:pending', 'm4:pending']);
	});

	it('the room stored a message but its ack was lost: no double, whether the backlog or the ack comes first', () => {
		const { pending, wire, outbox, write, reconnect, shown } = tab();
		pending.restore(null, []);
		write('m1');
		write('m2');
		write('m3');
		wire.length = 0;
		// The socket dropped after the room stored m1 and m2. The reconnect resends all three.
		reconnect();
		expect(wire).toEqual(['m1', 'm2', 'm3']);
		// The backlog brings m1 and m2 before the room answers the resends.
		pending.settle([stored('m1', 11), stored('m2', 12)]);
		expect(shown()).toEqual(['m3:pending']);
		expect(outbox.has('m1')).toBe(false);
		// The room acks the resends as duplicates, with the original seqs, and stores m3 now.
		pending.acked('m1', true);
		pending.acked('m2', true);
		pending.acked('m3', false);
		expect(shown()).toEqual(['m3:sent']);
		pending.settle([stored('m1', 11), stored('m2', 12), stored('m3', 13)]);
		expect(shown()).toEqual([]);
		expect(outbox.size).toBe(0);
		// Nothing left to send on the next connection.
		wire.length = 0;
		reconnect();
		expect(wire).toEqual([]);
	});

	it('a message settled by the timeline stays in the window until the room answers its resend', () => {
		// With one slot, m2 may go only once m1 is answered: the room may be holding it.
		const { pending, wire, write, reconnect } = tab(new SendWindow<OutboxEntry>(1));
		pending.restore(null, []);
		write('m1');
		write('m2');
		expect(wire).toEqual(['m1']);
		pending.settle([stored('m1', 5)]);
		expect(wire).toEqual(['m1']);
		reconnect();
		expect(wire).toEqual(['m1', 'm1']);
		pending.acked('m1', true);
		expect(wire).toEqual(['m1', 'm1', 'm2']);
	});

	it('takes the ack and the broadcast in either order without showing the message twice', () => {
		const { pending, write, shown } = tab();
		pending.restore(null, []);
		write('a');
		write('b');
		// a: acked first, then broadcast.
		pending.acked('a', false);
		expect(shown()).toEqual(['a:sent', 'b:pending']);
		pending.settle([stored('a', 1)]);
		expect(shown()).toEqual(['b:pending']);
		// b: broadcast first, then acked.
		pending.settle([stored('a', 1), stored('b', 2)]);
		expect(shown()).toEqual([]);
		pending.acked('b', true);
		pending.acked('b', true);
		expect(shown()).toEqual([]);
		// c: the timeline has its seq when the ack comes (it arrived where nothing settles).
		write('c');
		pending.acked('c', true);
		expect(shown()).toEqual([]);
	});

	it('only settles my own messages', () => {
		const { pending, write, shown } = tab();
		pending.restore(null, []);
		write('same');
		pending.settle([{ ...stored('same', 1), senderId: 'bob' }]);
		expect(shown()).toEqual(['same:pending']);
	});

	it('after a refusal for rate, sends again from the refused message, in order, when told to resume', () => {
		const { pending, wire, write } = tab();
		pending.restore(null, []);
		for (const id of ['m1', 'm2', 'm3']) write(id);
		pending.acked('m1', false);
		wire.length = 0;
		expect(pending.refused(refusal({ clientId: 'm2', retryAfterMs: 500 }), 0)).toEqual({
			retryIn: 500
		});
		write('m4');
		expect(wire).toEqual([]);
		pending.resume();
		// The window starts again from one and grows by an ack.
		expect(wire).toEqual(['m2']);
		pending.acked('m2', false);
		expect(wire).toEqual(['m2', 'm3', 'm4']);
	});

	it('marks a message refused for what it is as failed, lets the rest go on, and retries it on request', () => {
		const { pending, wire, outbox, write, shown } = tab(new SendWindow<OutboxEntry>(1));
		pending.restore(null, []);
		write('bad');
		write('next');
		const tooLong = refusal({ code: ErrorCode.MessageTooLong, message: 'Too long.' });
		expect(pending.refused({ ...tooLong, clientId: 'bad' }, 0)).toBeNull();
		expect(shown()).toEqual(['bad:failed', 'next:pending']);
		expect(pending.list[0]?.error).toBe('Too long.');
		expect(outbox.get('bad')?.failed).toBe('Too long.');
		expect(wire).toEqual(['bad', 'next']);
		pending.retry('bad');
		expect(shown()).toEqual(['bad:pending', 'next:pending']);
		expect(outbox.get('bad')?.failed).toBeUndefined();
		pending.acked('next', false);
		expect(wire).toEqual(['bad', 'next', 'bad']);
	});

	it('answers a notice for refusals that are no pending message of mine', () => {
		const { pending, write } = tab();
		pending.restore(null, []);
		write('m1');
		const forbidden = refusal({ code: ErrorCode.Forbidden, message: 'Not yours.', seq: 4 });
		expect(pending.refused(forbidden, 0)).toEqual({ notice: 'Not yours.' });
		// An internal error while nothing is on the wire names no send.
		pending.acked('m1', false);
		expect(pending.refused(refusal({ code: ErrorCode.Internal, message: 'Oops.' }), 0)).toEqual({
			notice: 'Oops.'
		});
	});

	it('forgets a discarded message, and sends the next in its place', () => {
		const { pending, wire, outbox, write, shown } = tab(new SendWindow<OutboxEntry>(1));
		pending.restore(null, []);
		write('m1');
		write('m2');
		pending.discard('m1');
		expect(shown()).toEqual(['m2:pending']);
		expect(outbox.has('m1')).toBe(false);
		expect(wire).toEqual(['m1', 'm2']);
	});

	it('shows the quote of the message replied to, and sends only its seq', () => {
		const { pending, outbox, write } = tab();
		pending.restore(null, []);
		write('reply', { ...stored('x', 9), senderName: 'Bob', body: 'the original' });
		expect(pending.list[0]?.replyTo).toEqual({
			seq: 9,
			senderName: 'Bob',
			snippet: 'the original',
			deleted: false
		});
		expect(outbox.get('reply')?.replyTo).toBe(9);
	});
});
