// What a server operation answers when it may be refused, and who asks. Rules (authz.ts) and the
// operations built on them (rooms, people) all answer `Done`; pages turn a `Denial` into an error
// page (`requireRoom`) or a form failure (`refuse` in request-context.ts), by its status and code.

/** Who does something: the signed-in user (a `SessionUser` is one), named in what others see. */
export type Actor = { id: string; displayName: string; username: string };

export type DenialCode =
	| 'sign_in'
	| 'bad_input'
	| 'not_found'
	| 'not_member'
	| 'invite_only'
	| 'banned'
	| 'blocked'
	| 'forbidden'
	| 'direct_room'
	| 'last_owner'
	| 'self'
	| 'bad_target'
	| 'already_friends'
	| 'already_requested'
	| 'already_blocked'
	| 'not_blocked'
	| 'no_request'
	| 'not_friends'
	| 'dm_not_allowed'
	| 'invite_invalid'
	| 'invite_expired'
	| 'invite_revoked'
	| 'invite_used_up'
	| 'too_many'
	| 'bot';

export type Denial = {
	ok: false;
	status: 400 | 401 | 403 | 404 | 409 | 410;
	code: DenialCode;
	message: string;
};
/**
 * What every server operation that may be refused answers: `ok` with what it made or found, or a
 * denial. `Done` alone carries nothing more; `Done<{ roomId: string }>` carries the new room's id.
 */
export type Done<T extends object = Record<never, never>> = ({ ok: true } & T) | Denial;

export function deny(status: Denial['status'], code: DenialCode, message: string): Denial {
	return { ok: false, status, code, message };
}
