// The directory of end-to-end encryption devices (docs/e2ee.md): each browser that takes part in
// encrypted rooms is a device with its own keys, made in that browser. The server keeps only what
// others need to add a device to a group (its public identity key, its KeyPackages, in
// `key-packages.ts`) and whether one of the person's own devices vouched for it.
//
// A person's first device is approved at once; each later one waits until one of their approved
// devices approves it, after the person compared the short code both show (computed in the browser
// from the new device's identity key, so the server never chooses what is compared). Only approved
// devices are listed to a room's members, who add them to their groups. The server knows sessions,
// not devices: it checks that the approver is an approved device of the same person, but which
// browser names it is the session's word.
import { decodeBase64, encodeBase64 } from '@oslojs/encoding';
import { and, asc, eq, gt, isNotNull, isNull, or, sql, type SQL } from 'drizzle-orm';
import * as v from 'valibot';
import type { Db } from '$lib/server/db';
import { e2eeDevices, e2eeKeyPackages, memberships } from '$shared/db/schema';
import { generateId } from '$lib/server/ids';
import { deny, type Done } from '$lib/server/outcome';
import { authorizeRoom } from '$lib/server/rooms/authz';

/** Active devices one person may have; a lost one is removed to make room. */
export const MAX_DEVICES_PER_PERSON = 10;
export const MAX_DEVICE_NAME_LENGTH = 60;
/** Ed25519 public keys, the signature keys of our ciphersuite, are 32 bytes. */
const IDENTITY_KEY_BYTES = 32;
/**
 * How long a removed device is still listed: to the room's members, whose clients take its leaf
 * out of the group, and to its person. A client away longer takes out any leaf not listed at all.
 */
export const REMOVED_DEVICES_LISTED_MS = 30 * 24 * 60 * 60 * 1000;

/** A device's public identity key: base64 of the 32 bytes, kept in the one canonical spelling. */
const IdentityKey = v.pipe(
	v.string('The identity key must be base64 text.'),
	v.rawTransform(({ dataset, addIssue, NEVER }) => {
		const bytes = decodedOrNull(dataset.value);
		if (bytes?.length !== IDENTITY_KEY_BYTES) {
			addIssue({
				message: `The identity key must be the base64 of a ${IDENTITY_KEY_BYTES}-byte Ed25519 public key.`
			});
			return NEVER;
		}
		return encodeBase64(bytes);
	})
);

function decodedOrNull(text: string): Uint8Array | null {
	try {
		return decodeBase64(text);
	} catch {
		return null;
	}
}

/** What `POST /api/e2ee/devices` takes. Its KeyPackages follow, once the device knows its id. */
export const DeviceInput = v.object(
	{
		name: v.pipe(
			v.string('Name the device.'),
			v.trim(),
			v.minLength(1, 'Name the device.'),
			v.maxLength(
				MAX_DEVICE_NAME_LENGTH,
				`Keep the device's name to ${MAX_DEVICE_NAME_LENGTH} characters or fewer.`
			)
		),
		identityKey: IdentityKey
	},
	'Send the device as { name, identityKey }.'
);

/**
 * Records a new device of the person's and gives it its id, which the browser then puts in the
 * credential of the KeyPackages it publishes. Approved at once when the person has no approved
 * active device (their first, or after every approved one was removed: nothing is left that
 * could approve it); pending otherwise. Refused past MAX_DEVICES_PER_PERSON active devices.
 */
export async function registerDevice(
	db: Db,
	userId: string,
	input: unknown
): Promise<Done<{ id: string; approved: boolean }>> {
	const parsed = v.safeParse(DeviceInput, input);
	if (!parsed.success) return deny(400, 'bad_input', parsed.issues[0].message);
	const { name, identityKey } = parsed.output;
	const id = generateId();
	// One statement: the count, the approval and the write cannot be split by another registration
	// of the same person's, so two browsers registering at once cannot both be "the first".
	const row = await db.get<{ approved_by: string | null } | undefined>(sql`
		INSERT INTO e2ee_devices (id, user_id, name, identity_key, created_at, approved_by)
		SELECT ${id}, ${userId}, ${name}, ${identityKey}, ${Date.now()},
			CASE WHEN EXISTS (SELECT 1 FROM e2ee_devices
			                  WHERE user_id = ${userId} AND removed_at IS NULL
			                  AND approved_by IS NOT NULL)
			THEN NULL ELSE ${id} END
		WHERE (SELECT COUNT(*) FROM e2ee_devices
		       WHERE user_id = ${userId} AND removed_at IS NULL) < ${MAX_DEVICES_PER_PERSON}
		RETURNING approved_by`);
	if (!row) {
		return deny(
			409,
			'too_many',
			`You can use end-to-end encryption on at most ${MAX_DEVICES_PER_PERSON} devices: remove one first.`
		);
	}
	return { ok: true, id, approved: row.approved_by !== null };
}

/**
 * Records that `approverDeviceId`, an approved active device of the person's, vouches for their
 * pending device `deviceId`. The person compared the two devices' short code in the browser; the
 * server only records the approval. Another person's device reads as not found.
 */
export async function approveDevice(
	db: Db,
	userId: string,
	approverDeviceId: string,
	deviceId: string
): Promise<Done> {
	const own = await db
		.select({
			id: e2eeDevices.id,
			approvedBy: e2eeDevices.approvedBy,
			removedAt: e2eeDevices.removedAt
		})
		.from(e2eeDevices)
		.where(
			and(
				eq(e2eeDevices.userId, userId),
				or(eq(e2eeDevices.id, approverDeviceId), eq(e2eeDevices.id, deviceId))
			)
		);
	const approver = own.find((device) => device.id === approverDeviceId);
	const target = own.find((device) => device.id === deviceId);
	if (!target || target.removedAt !== null) return noSuchDevice();
	if (target.approvedBy !== null)
		return deny(409, 'bad_target', 'That device is approved already.');
	if (!approver || approver.removedAt !== null) {
		return deny(404, 'not_found', 'The approving device is not one of your devices.');
	}
	if (approver.approvedBy === null) {
		return deny(403, 'forbidden', 'Approve this device from one of your approved devices.');
	}
	// Guarded by the same conditions, so a removal made meanwhile is not overridden.
	const approved = await db
		.update(e2eeDevices)
		.set({ approvedBy: approverDeviceId })
		.where(
			and(
				eq(e2eeDevices.id, deviceId),
				eq(e2eeDevices.userId, userId),
				isNull(e2eeDevices.approvedBy),
				isNull(e2eeDevices.removedAt),
				sql`exists (select 1 from ${e2eeDevices} as approver
					where approver.id = ${approverDeviceId} and approver.user_id = ${userId}
					and approver.approved_by is not null and approver.removed_at is null)`
			)
		)
		.returning({ id: e2eeDevices.id });
	if (approved.length === 0) {
		return deny(
			409,
			'bad_target',
			'One of the two devices changed meanwhile: reload and try again.'
		);
	}
	return { ok: true };
}

/**
 * Removes one of the person's devices (a lost phone: any of their sessions may): it is marked
 * removed, so that the rooms' clients take it out of their groups, and its KeyPackages are deleted,
 * so that nobody adds it again. Removing a removed device changes nothing and succeeds.
 */
export async function removeDevice(db: Db, userId: string, deviceId: string): Promise<Done> {
	const mine = and(eq(e2eeDevices.id, deviceId), eq(e2eeDevices.userId, userId));
	const [removed] = await db.batch([
		db
			.update(e2eeDevices)
			.set({ removedAt: sql`coalesce(${e2eeDevices.removedAt}, ${Date.now()})` })
			.where(mine)
			.returning({ id: e2eeDevices.id }),
		db
			.delete(e2eeKeyPackages)
			.where(
				eq(
					e2eeKeyPackages.deviceId,
					sql`(select ${e2eeDevices.id} from ${e2eeDevices} where ${mine})`
				)
			)
	]);
	return removed.length === 0 ? noSuchDevice() : { ok: true };
}

/** One of the person's devices that is not removed (approved or pending), or null. */
export async function ownActiveDevice(
	db: Db,
	userId: string,
	deviceId: string
): Promise<OwnDevice | null> {
	const [row] = await db
		.select()
		.from(e2eeDevices)
		.where(
			and(
				eq(e2eeDevices.id, deviceId),
				eq(e2eeDevices.userId, userId),
				isNull(e2eeDevices.removedAt)
			)
		);
	return row ? ownDeviceOf(row) : null;
}

/**
 * Those of `deviceIds` that may be in the room's group, as SQL selecting their `id`: approved,
 * active devices of the room's current members. Claiming KeyPackages and welcoming devices ask
 * this one rule. The ids travel as one JSON parameter, since D1 binds at most 100 per statement.
 */
export function eligibleDevices(roomId: string, deviceIds: readonly string[]): SQL {
	return sql`select ${e2eeDevices.id} from ${e2eeDevices}
		join ${memberships} on ${memberships.roomId} = ${roomId}
			and ${memberships.userId} = ${e2eeDevices.userId}
		where ${e2eeDevices.id} in (select value from json_each(${JSON.stringify(deviceIds)}))
		and ${e2eeDevices.approvedBy} is not null and ${e2eeDevices.removedAt} is null`;
}

/** How many of `deviceIds` (each named once) are `eligibleDevices` of the room. */
export async function eligibleDeviceCount(
	db: Db,
	roomId: string,
	deviceIds: readonly string[]
): Promise<number> {
	const found = await db.get<{ n: number }>(
		sql`select count(*) as n from (${eligibleDevices(roomId, deviceIds)})`
	);
	return found.n;
}

/** A device as its person's settings list it. */
export type OwnDevice = {
	id: string;
	name: string;
	identityKey: string;
	createdAt: number;
	/** False while it waits for one of the person's approved devices. */
	approved: boolean;
	/** When it was removed; removed devices are listed for REMOVED_DEVICES_LISTED_MS. */
	removedAt: number | null;
};

/**
 * The person's devices, oldest first: active ones (approved or pending), and those removed lately,
 * so that a browser whose device was removed from elsewhere learns it and forgets its keys.
 */
export async function listOwnDevices(
	db: Db,
	userId: string,
	now = Date.now()
): Promise<OwnDevice[]> {
	const rows = await db
		.select()
		.from(e2eeDevices)
		.where(
			and(
				eq(e2eeDevices.userId, userId),
				or(
					isNull(e2eeDevices.removedAt),
					gt(e2eeDevices.removedAt, now - REMOVED_DEVICES_LISTED_MS)
				)
			)
		)
		.orderBy(asc(e2eeDevices.createdAt), asc(e2eeDevices.id));
	return rows.map(ownDeviceOf);
}

function ownDeviceOf(row: typeof e2eeDevices.$inferSelect): OwnDevice {
	return {
		id: row.id,
		name: row.name,
		identityKey: row.identityKey,
		createdAt: row.createdAt,
		approved: row.approvedBy !== null,
		removedAt: row.removedAt
	};
}

/** A device of a room's member, as the room's clients see it. */
export type RoomDevice = {
	userId: string;
	deviceId: string;
	name: string;
	identityKey: string;
	createdAt: number;
};

/**
 * The devices of a room's members, for anyone who may read the room (`decideRoom`'s `read`):
 *
 * - `devices`: the approved, active devices of every current member, oldest first. These are the
 *   leaves the room's group should have: a client adds those it lacks (claiming their KeyPackages).
 * - `removed`: the current members' approved devices removed in the last REMOVED_DEVICES_LISTED_MS,
 *   with when (`removedAt`): a client takes their leaves out of the group. A device that never
 *   was approved was never in a group, so it is left out. A member who left takes all their
 *   devices with them, which their membership's end says, not this list.
 */
export async function roomDevices(
	db: Db,
	viewerId: string,
	roomId: string,
	now = Date.now()
): Promise<Done<{ devices: RoomDevice[]; removed: (RoomDevice & { removedAt: number })[] }>> {
	const access = await authorizeRoom(db, viewerId, roomId, 'read');
	if (!access.ok) return access;
	const rows = await db
		.select({
			userId: e2eeDevices.userId,
			deviceId: e2eeDevices.id,
			name: e2eeDevices.name,
			identityKey: e2eeDevices.identityKey,
			createdAt: e2eeDevices.createdAt,
			removedAt: e2eeDevices.removedAt
		})
		.from(e2eeDevices)
		.innerJoin(
			memberships,
			and(eq(memberships.roomId, roomId), eq(memberships.userId, e2eeDevices.userId))
		)
		.where(
			and(
				isNotNull(e2eeDevices.approvedBy),
				or(
					isNull(e2eeDevices.removedAt),
					gt(e2eeDevices.removedAt, now - REMOVED_DEVICES_LISTED_MS)
				)
			)
		)
		.orderBy(asc(e2eeDevices.createdAt), asc(e2eeDevices.id));
	const devices: RoomDevice[] = [];
	const removed: (RoomDevice & { removedAt: number })[] = [];
	for (const { removedAt, ...device } of rows) {
		if (removedAt === null) devices.push(device);
		else removed.push({ ...device, removedAt });
	}
	return { ok: true, devices, removed };
}

export function noSuchDevice() {
	return deny(404, 'not_found', 'There is no such device of yours.');
}
