// The schemas of the room details forms.
import * as v from 'valibot';
import { INVITE_LIFETIMES, MAX_INVITE_USES, type InviteLifetime } from '$lib/server/rooms/invites';
import { MAX_DESCRIPTION_LENGTH } from '$lib/server/rooms/admin';
import { MAX_ROOM_NAME_LENGTH } from '$lib/server/rooms/rooms';
import { TOKEN_LIFETIMES, TOKEN_SCOPES, type TokenLifetime } from '$lib/server/api/tokens';

const checkbox = v.pipe(
	v.optional(v.string(), ''),
	v.transform((value) => value === 'on')
);

export const Settings = v.object({
	notify: v.picklist(['all', 'mentions', 'mute']),
	pinned: checkbox,
	archived: checkbox
});

export const Details = v.object({
	name: v.pipe(
		v.string(),
		v.trim(),
		v.nonEmpty('Give the room a name.'),
		v.maxLength(MAX_ROOM_NAME_LENGTH, `Names are at most ${MAX_ROOM_NAME_LENGTH} characters.`)
	),
	description: v.pipe(
		v.optional(v.string(), ''),
		v.trim(),
		v.maxLength(MAX_DESCRIPTION_LENGTH, `At most ${MAX_DESCRIPTION_LENGTH} characters.`)
	)
});

export const InviteOptions = v.object({
	lifetime: v.picklist(
		Object.keys(INVITE_LIFETIMES) as InviteLifetime[],
		'Choose how long it works.'
	),
	maxUses: v.pipe(
		v.optional(v.string(), ''),
		v.trim(),
		v.check((s) => s === '' || /^\d{1,4}$/.test(s), 'Enter a number of uses, or leave it empty.'),
		v.transform((s) => (s === '' ? null : Number(s))),
		v.check(
			(n) => n === null || (n >= 1 && n <= MAX_INVITE_USES),
			`Between 1 and ${MAX_INVITE_USES} uses.`
		)
	)
});

/** A bot's new token: the choices only (the bot and the room are the operation's to check). */
export const BotTokenOptions = v.object({
	scope: v.picklist(TOKEN_SCOPES, 'Choose what the token may do.'),
	lifetime: v.picklist(
		Object.keys(TOKEN_LIFETIMES) as TokenLifetime[],
		'Choose when the token expires.'
	)
});
