// The room's socket registry on its own, over stand-in sockets and a stand-in runtime that keeps
// their tags and attachments the way a hibernating Durable Object does.
import { describe, expect, it } from 'vitest';
import { CloseCode, MAX_ROOM_SOCKETS_PER_USER } from '$shared/protocol';
import type { Identity } from '$shared/identity';
import { Fanout } from '../../../workers/realtime/src/fanout';
import { PresenceBook } from '../../../workers/realtime/src/presence';
import {
	SocketRegistry,
	TOO_MANY_CONNECTIONS,
	type Attachment,
	type Socket,
	type SocketHost
} from '../../../workers/realtime/src/socket-registry';

class FakeSocket {
	readyState: number = WebSocket.OPEN;
	/** Kept serialized, like the runtime's copy: what survives hibernation is what was written. */
	stored: string | null = null;
	closedWith: { code: number; reason: string } | null = null;
	serializeAttachment(value: unknown) {
		this.stored = JSON.stringify(value);
	}
	deserializeAttachment(): unknown {
		return this.stored === null ? null : JSON.parse(this.stored);
	}
	close(code: number, reason: string) {
		this.closedWith = { code, reason };
		this.readyState = WebSocket.CLOSING;
	}
	send() {}
	get attachment(): Attachment {
		return this.deserializeAttachment() as Attachment;
	}
	get ws(): WebSocket {
		return this as unknown as WebSocket;
	}
}

/** The runtime's side: accepted sockets and their tags, which outlive the object's memory. */
class FakeHost implements SocketHost {
	accepted: { ws: WebSocket; tags: string[] }[] = [];
	acceptWebSocket(ws: WebSocket, tags: string[] = []) {
		this.accepted.push({ ws, tags });
	}
	getWebSockets(tag?: string): WebSocket[] {
		return this.accepted.filter((a) => tag === undefined || a.tags.includes(tag)).map((a) => a.ws);
	}
}

function identity(userId: string, sessionId: string | null = `${userId}-s1`): Identity {
	return {
		roomId: 'room',
		userId,
		userName: userId.toUpperCase(),
		username: userId,
		role: 'member',
		readReceipts: true,
		sessionId,
		readOnly: false,
		bot: false,
		encrypted: false
	};
}

/** One lifetime of the object: fresh memory over the same runtime. */
function lifetime(host: FakeHost) {
	const presence = new PresenceBook();
	const fanout = new Fanout();
	const left: Socket[] = [];
	const registry = new SocketRegistry(host, presence, fanout, (socket) => left.push(socket));
	return { presence, fanout, left, registry };
}

const from = { lastSeq: 12, rev: 30 };

describe('the socket registry', () => {
	it('accepts a socket: tagged, its attachment written, counted in presence, subscribed', () => {
		const host = new FakeHost();
		const { presence, fanout, registry } = lifetime(host);
		const ws = new FakeSocket();
		const socket = registry.accept(ws.ws, identity('alice'), from);
		expect(socket).toMatchObject({ userId: 'alice', fromSeq: 12, fromRev: 30, held: null });
		expect(host.accepted[0]!.tags).toEqual(['user:alice', 'session:alice-s1']);
		expect(ws.attachment).toEqual({
			userId: 'alice',
			userName: 'ALICE',
			username: 'alice',
			role: 'member',
			receipts: true,
			away: false,
			fromSeq: 12,
			fromRev: 30
		});
		expect(presence.state('alice')).toBe('online');
		expect(fanout.size).toBe(1);
		expect(registry.get(ws.ws)).toBe(socket);
	});

	it(`turns away a person's socket past ${MAX_ROOM_SOCKETS_PER_USER}, with a reason to show`, () => {
		const host = new FakeHost();
		const { presence, fanout, registry } = lifetime(host);
		for (let i = 0; i < MAX_ROOM_SOCKETS_PER_USER; i++) {
			expect(registry.accept(new FakeSocket().ws, identity('alice'), from)).not.toBeNull();
		}
		const extra = new FakeSocket();
		expect(registry.accept(extra.ws, identity('alice'), from)).toBeNull();
		expect(extra.closedWith).toEqual({
			code: CloseCode.TooManyConnections,
			reason: TOO_MANY_CONNECTIONS
		});
		// Accepted untagged and marked closed: nobody's socket, also after a wake.
		expect(host.accepted.at(-1)!.tags).toEqual([]);
		expect(extra.attachment).toEqual({ closed: CloseCode.TooManyConnections });
		expect(registry.get(extra.ws)).toBeNull();
		expect(presence.sockets('alice')).toBe(MAX_ROOM_SOCKETS_PER_USER);
		expect(fanout.size).toBe(MAX_ROOM_SOCKETS_PER_USER);
		// The cap is per person.
		expect(registry.accept(new FakeSocket().ws, identity('bob'), from)).not.toBeNull();
	});

	it('finds every socket again after hibernation, as its attachment last said', () => {
		const host = new FakeHost();
		const before = lifetime(host);
		const [phone, laptop, bobs] = [new FakeSocket(), new FakeSocket(), new FakeSocket()];
		before.registry.accept(phone.ws, identity('alice'), from);
		before.registry.accept(laptop.ws, identity('alice'), { lastSeq: 20, rev: 31 });
		before.registry.accept(bobs.ws, identity('bob'), from);
		const greeted = before.registry.get(phone.ws)!;
		greeted.greeted = true;
		greeted.held = 'c1';
		greeted.toldLastSeen = true;
		before.registry.save(phone.ws, greeted);
		expect(before.registry.setAway(laptop.ws, before.registry.get(laptop.ws)!, true)).toBe(true);
		expect(before.registry.closeUser('bob', CloseCode.Removed, 'removed')).toBe(1);

		// The object hibernates: memory is gone, the runtime keeps the sockets and attachments.
		const after = lifetime(host);
		after.registry.wake();
		const phoneAgain = after.registry.get(phone.ws)!;
		expect(phoneAgain).toMatchObject({ userId: 'alice', greeted: true, away: false, fromSeq: 12 });
		// What lives in memory only starts afresh.
		expect(phoneAgain.held).toBeNull();
		expect(phoneAgain.toldLastSeen).toBe(false);
		expect(after.registry.get(laptop.ws)).toMatchObject({ away: true, fromSeq: 20, fromRev: 31 });
		expect(after.presence.state('alice')).toBe('online');
		expect(after.presence.sockets('alice')).toBe(2);
		// Closed by a decision before the wake: still in the runtime, not taken back.
		expect(after.registry.get(bobs.ws)).toBeNull();
		expect(after.presence.state('bob')).toBe('offline');
		expect(after.fanout.size).toBe(2);
	});

	it('takes back an open socket it does not know when it sends, never a closed one', () => {
		const host = new FakeHost();
		const before = lifetime(host);
		const [open, closing] = [new FakeSocket(), new FakeSocket()];
		before.registry.accept(open.ws, identity('alice'), from);
		before.registry.accept(closing.ws, identity('bob'), from);
		closing.readyState = WebSocket.CLOSING;

		const after = lifetime(host);
		expect(after.registry.get(open.ws)).toMatchObject({ userId: 'alice' });
		expect(after.presence.state('alice')).toBe('online');
		expect(after.registry.get(closing.ws)).toBeNull();
		expect(after.presence.state('bob')).toBe('offline');
	});

	it("closes a user's sockets by a decision: marked first, forgotten, and the room told", () => {
		const host = new FakeHost();
		const { presence, fanout, left, registry } = lifetime(host);
		const [a1, a2, b1] = [new FakeSocket(), new FakeSocket(), new FakeSocket()];
		registry.accept(a1.ws, identity('alice', 'sa1'), from);
		registry.accept(a2.ws, identity('alice', 'sa2'), from);
		registry.accept(b1.ws, identity('bob'), from);

		expect(registry.closeUser('alice', CloseCode.Removed, 'removed from the room')).toBe(2);
		for (const ws of [a1, a2]) {
			expect(ws.closedWith).toEqual({ code: CloseCode.Removed, reason: 'removed from the room' });
			expect(ws.attachment).toMatchObject({ userId: 'alice', closed: CloseCode.Removed });
			// Its frames change nothing from now on, even though the runtime still delivers them.
			expect(registry.get(ws.ws)).toBeNull();
		}
		expect(left.map((s) => s.userId)).toEqual(['alice', 'alice']);
		expect(presence.state('alice')).toBe('offline');
		expect(presence.state('bob')).toBe('online');
		expect(fanout.size).toBe(1);
		expect(b1.closedWith).toBeNull();
	});

	it("closes only the signed-out sessions' sockets, and every socket when the room goes", () => {
		const host = new FakeHost();
		const { registry } = lifetime(host);
		const [a1, a2, b1] = [new FakeSocket(), new FakeSocket(), new FakeSocket()];
		registry.accept(a1.ws, identity('alice', 'sa1'), from);
		registry.accept(a2.ws, identity('alice', 'sa2'), from);
		registry.accept(b1.ws, identity('bob', null), from);
		expect(registry.closeSessions(['sa1', 'nobody'], CloseCode.SignedOut, 'signed out')).toBe(1);
		expect(a1.closedWith?.code).toBe(CloseCode.SignedOut);
		expect(a2.closedWith).toBeNull();

		expect(registry.closeAll(CloseCode.RoomGone, 'the room was deleted')).toBe(3);
		expect(a2.closedWith?.code).toBe(CloseCode.RoomGone);
		expect(b1.attachment).toMatchObject({ userId: 'bob', closed: CloseCode.RoomGone });
	});

	it('forgets a socket once, and tells the room once', () => {
		const host = new FakeHost();
		const { presence, left, registry } = lifetime(host);
		const ws = new FakeSocket();
		registry.accept(ws.ws, identity('alice'), from);
		registry.forget(ws.ws);
		registry.forget(ws.ws);
		expect(left).toHaveLength(1);
		expect(presence.state('alice')).toBe('offline');
	});

	it("applies a member's new role and privacy setting to their open sockets and attachments", () => {
		const host = new FakeHost();
		const { registry } = lifetime(host);
		const [a1, b1] = [new FakeSocket(), new FakeSocket()];
		registry.accept(a1.ws, identity('alice'), from);
		registry.accept(b1.ws, identity('bob'), from);
		expect(registry.readerShares(a1.ws)).toBe(true);
		registry.update('alice', { role: 'admin', readReceipts: false });
		expect(registry.get(a1.ws)).toMatchObject({ role: 'admin', receipts: false });
		expect(a1.attachment).toMatchObject({ role: 'admin', receipts: false });
		expect(registry.readerShares(a1.ws)).toBe(false);
		expect(registry.readerShares(b1.ws)).toBe(true);
		expect(b1.attachment.role).toBe('member');
	});

	it('records a change of away once, in presence and in the attachment', () => {
		const host = new FakeHost();
		const { presence, registry } = lifetime(host);
		const ws = new FakeSocket();
		const socket = registry.accept(ws.ws, identity('alice'), from)!;
		presence.takeChanges();
		expect(registry.setAway(ws.ws, socket, false)).toBe(false);
		expect(presence.hasChanges).toBe(false);
		expect(registry.setAway(ws.ws, socket, true)).toBe(true);
		expect(presence.state('alice')).toBe('away');
		expect(ws.attachment.away).toBe(true);
	});
});
