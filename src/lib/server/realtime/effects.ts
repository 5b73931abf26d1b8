// What the app tells the realtime worker after it has changed D1: timeline entries, closing the
// sockets of someone who lost access, and events for users' hubs. D1 is changed first, so a socket
// that reconnects after any of these is already judged by the new state at the door.
import type { MemberEntry } from '$shared/protocol';
import type { HubEvent } from '$shared/protocol/hub';
import { generateId } from '$lib/server/ids';
import type { Actor } from '$lib/server/outcome';
import { hubStub, roomStub } from '$shared/objects';

export type Realtime = { rooms: Env['ROOMS']; hubs: Env['HUBS'] };

export function realtimeOf(env: Env): Realtime {
	return { rooms: env.ROOMS, hubs: env.HUBS };
}

/**
 * "Alice added Bob": a system message in the room's timeline, ordered like any other, sent by the
 * person who did it, so that it is never unread for them. `left`: the line records their leaving.
 */
export async function postSystemMessage(
	rt: Realtime,
	roomId: string,
	actor: Actor,
	body: string,
	{ left = false } = {}
): Promise<void> {
	const who = { userId: actor.id, name: actor.displayName, username: actor.username, left };
	try {
		await roomStub(rt.rooms, roomId).postSystemMessage(roomId, `system:${generateId()}`, body, who);
	} catch (err) {
		// The change itself is made; a missing timeline line must not turn it into an error.
		console.warn('system message failed', err);
	}
}

/** Someone was added: open member lists show them now, whether or not they are online. */
export async function announceMember(
	rt: Realtime,
	roomId: string,
	member: MemberEntry
): Promise<void> {
	try {
		await roomStub(rt.rooms, roomId).memberAdded(member);
	} catch (err) {
		// The membership is in D1; member lists show it on their next load.
		console.warn('announcing a new member failed', err);
	}
}

/**
 * Closes the user's sockets in the room at once (invariant 6). Retried once: unlike a timeline
 * line, this must not be lost, so a second failure is the caller's error.
 */
export async function disconnectFromRoom(
	rt: Realtime,
	roomId: string,
	userId: string
): Promise<void> {
	try {
		await roomStub(rt.rooms, roomId).disconnectUser(userId);
	} catch {
		await roomStub(rt.rooms, roomId).disconnectUser(userId);
	}
}

/**
 * The room is deleted in D1: its object closes every socket and drops what it stored, so no flush
 * keeps retrying against a room that is gone. Retried once, as for a removal.
 */
export async function destroyRoomObject(rt: Realtime, roomId: string): Promise<void> {
	try {
		await roomStub(rt.rooms, roomId).destroy();
	} catch {
		await roomStub(rt.rooms, roomId).destroy();
	}
}

/** A member's notification level changed: the room's next alerts follow it at once. */
export async function refreshAudience(rt: Realtime, roomId: string): Promise<void> {
	try {
		await roomStub(rt.rooms, roomId).audienceChanged();
	} catch (err) {
		// The room reads its audience again within half a minute anyway.
		console.warn('refreshing the room audience failed', err);
	}
}

/** A member's role changed: their open sockets in the room act with the new role at once. */
export async function applyRole(
	rt: Realtime,
	roomId: string,
	userId: string,
	role: 'owner' | 'admin' | 'member'
): Promise<void> {
	try {
		await roomStub(rt.rooms, roomId).updateMember(userId, { role });
	} catch (err) {
		// The role is in D1; the socket gets it on its next connection.
		console.warn('applying a role to open sockets failed', err);
	}
}

/** Pushes an event to the user's open tabs. Best effort: the next page load shows the truth. */
export async function notifyUser(rt: Realtime, userId: string, event: HubEvent): Promise<void> {
	try {
		await hubStub(rt.hubs, userId).notify(userId, event);
	} catch (err) {
		console.warn('hub notification failed', err);
	}
}

/** Two people became friends: each sees the other's presence from now on. */
export async function linkContacts(rt: Realtime, a: string, b: string): Promise<void> {
	try {
		await hubStub(rt.hubs, a).linkContact(a, b);
	} catch (err) {
		console.warn('linking contacts failed', err);
	}
}

/**
 * Unfriended or blocked: neither sees the other's presence any more. Retried once; if both tries
 * fail, the next time either comes online their hub rebuilds its contacts from D1 without the other.
 */
export async function unlinkContacts(rt: Realtime, a: string, b: string): Promise<void> {
	try {
		await hubStub(rt.hubs, a).unlinkContact(a, b);
	} catch {
		await hubStub(rt.hubs, a)
			.unlinkContact(a, b)
			.catch((err: unknown) => console.warn('unlinking contacts failed', err));
	}
}
