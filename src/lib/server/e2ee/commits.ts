// An encrypted room's commits and welcomes, through the app (docs/e2ee.md): the app decides who may
// commit (a member who may read the room, which is what sending in it takes) and whom a commit may
// welcome (approved, active devices of the room's members); the room object decides the order.
import * as v from 'valibot';
import { MAX_HANDSHAKE_LENGTH, type ChatMessage } from '$shared/protocol';
import { roomStub } from '$shared/objects';
import type { Db } from '$lib/server/db';
import type { Actor, Done } from '$lib/server/outcome';
import { deny } from '$lib/server/outcome';
import { authorizeRoom } from '$lib/server/rooms/authz';
import { STATUS } from '$lib/server/api/room-changes';
import { MAX_CLIENT_ID_LENGTH } from '$shared/protocol';
import { eligibleDeviceCount, ownActiveDevice } from './devices';
import { consumeRateLimits, describeWait, RateLimits } from '$lib/server/rate-limit';

/** How many devices one commit may welcome: a group of up to 100 people, a few devices each. */
export const MAX_WELCOMED_DEVICES = 200;

const Wire = (max: number) =>
	v.pipe(v.string(), v.minLength(1), v.maxLength(max, `At most ${max} characters.`));

const CommitInput = v.object({
	clientId: v.pipe(v.string(), v.minLength(1), v.maxLength(MAX_CLIENT_ID_LENGTH)),
	epoch: v.pipe(v.number(), v.integer(), v.minValue(0)),
	commit: Wire(MAX_HANDSHAKE_LENGTH),
	/** The MLS Welcome for the devices the commit adds, which the room keeps for each. */
	welcome: v.optional(Wire(2 * MAX_HANDSHAKE_LENGTH)),
	adds: v.optional(
		v.pipe(
			v.array(v.pipe(v.string(), v.minLength(1), v.maxLength(64))),
			v.maxLength(MAX_WELCOMED_DEVICES, `At most ${MAX_WELCOMED_DEVICES} devices at once.`)
		)
	)
});

/** A refusal by the room, told in HTTP terms (a stale epoch is a conflict: catch up and retry). */
export type RoomRefusal = {
	ok: false;
	status: number;
	code: string;
	message: string;
	retryAfterMs?: number;
};

/**
 * Hands a commit to the room: it takes its place in the group's order, or is refused
 * (`stale_epoch` when another commit from the same epoch came first).
 */
export async function submitCommit(
	db: Db,
	rooms: Env['ROOMS'],
	actor: Actor,
	roomId: string,
	input: unknown
): Promise<Done<{ stored: ChatMessage; duplicate: boolean }> | RoomRefusal> {
	const parsed = v.safeParse(CommitInput, input);
	if (!parsed.success) return deny(400, 'bad_input', parsed.issues[0].message);
	const handshake = parsed.output;
	const access = await authorizeRoom(db, actor.id, roomId, 'read');
	if (!access.ok) return access;
	if (access.room.encryption !== 'mls') {
		return deny(400, 'bad_input', 'This conversation is not end-to-end encrypted.');
	}
	const adds = [...new Set(handshake.adds ?? [])];
	if (adds.length > 0 && !handshake.welcome) {
		return deny(400, 'bad_input', 'A commit that adds devices carries their welcome.');
	}
	if (adds.length > 0 && (await eligibleDeviceCount(db, roomId, adds)) !== adds.length) {
		return deny(
			409,
			'bad_target',
			"Some of these are not approved devices of this room's members: read the room's devices again."
		);
	}
	const result = await roomStub(rooms, roomId).commit(
		roomId,
		{
			userId: actor.id,
			name: actor.displayName,
			username: actor.username,
			role: access.membership!.role
		},
		{ ...handshake, adds }
	);
	if (result.ok) return { ok: true, stored: result.stored!, duplicate: result.duplicate };
	return { ...result, status: STATUS[result.code] ?? 400 };
}

/**
 * A device of the caller's waits to be let into an encrypted room: the room's open devices are
 * asked to bring the group in step now. Limited per person (`e2eeKnocksPerPerson`).
 */
export async function knock(
	db: Db,
	rooms: Env['ROOMS'],
	actorId: string,
	roomId: string
): Promise<Done | RoomRefusal> {
	const access = await authorizeRoom(db, actorId, roomId, 'read');
	if (!access.ok) return access;
	if (access.room.encryption !== 'mls') {
		return deny(400, 'bad_input', 'This conversation is not end-to-end encrypted.');
	}
	const rate = await consumeRateLimits(db, [[RateLimits.e2eeKnocksPerPerson, actorId]]);
	if (!rate.ok) {
		return {
			ok: false,
			status: 429,
			code: 'rate_limited',
			message: `Asked too often. Try again in ${describeWait(rate.retryAfterSeconds)}.`,
			retryAfterMs: rate.retryAfterSeconds * 1000
		};
	}
	await roomStub(rooms, roomId).devicesChanged();
	return { ok: true };
}

/**
 * The welcome waiting in a room for one of the caller's devices, and the seq of the commit that
 * made it (the device applies what follows it), null when none waits; and the group's epoch, 0
 * while nobody has made the group.
 */
export async function welcomeFor(
	db: Db,
	rooms: Env['ROOMS'],
	actorId: string,
	roomId: string,
	deviceId: string
): Promise<Done<{ welcome: { seq: number; welcome: string } | null; epoch: number }>> {
	const access = await authorizeRoom(db, actorId, roomId, 'read');
	if (!access.ok) return access;
	if (!(await ownActiveDevice(db, actorId, deviceId))) {
		return deny(404, 'not_found', 'There is no such device of yours.');
	}
	return { ok: true, ...(await roomStub(rooms, roomId).welcomeFor(deviceId)) };
}
