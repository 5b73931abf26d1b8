// A change to a room's messages made through the API: sent to the room object, which judges it
// exactly as it judges its sockets' frames (order, idempotent sends, the per-person rate, who may
// edit or delete what), and its refusals told in the API's terms.
import {
	ErrorCode,
	type ChatMessage,
	type RoomChange,
	type RoomChangeResult
} from '$shared/protocol';
import { roomStub } from '$shared/objects';
import type { SessionUser } from '$lib/server/auth/session';
import { ApiError } from './endpoint';

/** The HTTP status of each of the room's refusals. */
export const STATUS: Record<ErrorCode, number> = {
	[ErrorCode.BadFrame]: 400,
	[ErrorCode.FrameTooLarge]: 413,
	[ErrorCode.MessageTooLong]: 413,
	[ErrorCode.EmptyMessage]: 400,
	[ErrorCode.RateLimited]: 429,
	[ErrorCode.DuplicateHello]: 409,
	[ErrorCode.NotFound]: 404,
	[ErrorCode.Forbidden]: 403,
	[ErrorCode.InvalidReaction]: 400,
	[ErrorCode.InvalidAttachment]: 400,
	[ErrorCode.SlowMode]: 429,
	[ErrorCode.TimedOut]: 403,
	[ErrorCode.Encryption]: 400,
	[ErrorCode.StaleEpoch]: 409,
	[ErrorCode.Internal]: 500
};

/**
 * Makes the change as `user`, a member of the room with `role` (the caller checked `read`).
 * Answers the room's result when it worked; throws its refusal otherwise.
 */
export async function changeRoom(
	env: Env,
	user: SessionUser,
	roomId: string,
	role: 'owner' | 'admin' | 'member',
	change: RoomChange
): Promise<{ stored: ChatMessage | null; duplicate: boolean }> {
	const result: RoomChangeResult = await roomStub(env.ROOMS, roomId).change(
		roomId,
		{
			userId: user.id,
			name: user.displayName,
			username: user.username,
			role,
			...(user.bot ? { bot: true as const } : {})
		},
		change
	);
	if (result.ok) return result;
	const headers =
		result.retryAfterMs !== undefined
			? { 'Retry-After': String(Math.max(1, Math.ceil(result.retryAfterMs / 1000))) }
			: undefined;
	throw new ApiError(STATUS[result.code] ?? 400, result.code, result.message, undefined, headers);
}
