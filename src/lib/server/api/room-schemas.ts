// What the Rooms, Members and Invites routes take and answer. Limits come from the operations'
// own constants, so the API refuses exactly what the app's forms refuse.
import * as v from 'valibot';
import { decodeBase64urlIgnorePadding, encodeBase64urlNoPadding } from '@oslojs/encoding';
import type { Db } from '$lib/server/db';
import { countParam, Username } from '$lib/server/forms';
import { pictureUrl } from '$lib/server/files/picture-url';
import { MAX_DESCRIPTION_LENGTH } from '$lib/server/rooms/admin';
import { peerNameOf } from '$lib/server/rooms/direct-rooms';
import { MAX_GROUP_INVITEES } from '$lib/server/rooms/groups';
import { INVITE_LIFETIMES, MAX_INVITE_USES, type InviteLifetime } from '$lib/server/rooms/invites';
import { MEMBER_LIST_LIMIT } from '$lib/server/rooms/members';
import { MAX_ROOM_NAME_LENGTH, type Membership, type Room } from '$lib/server/rooms/rooms';
import { Id } from './schemas';

const ROLES = ['owner', 'admin', 'member'] as const;
const NOTIFY = ['all', 'mentions', 'mute'] as const;

// ---- What the routes take ----

const RoomName = v.pipe(
	v.string('Give the room a name.'),
	v.trim(),
	v.nonEmpty('Give the room a name.'),
	v.maxLength(MAX_ROOM_NAME_LENGTH, `Names are at most ${MAX_ROOM_NAME_LENGTH} characters.`)
);

const Description = v.pipe(
	v.string(),
	v.trim(),
	v.maxLength(MAX_DESCRIPTION_LENGTH, `At most ${MAX_DESCRIPTION_LENGTH} characters.`)
);

/** A person named by username, as the app's Add field takes it (an `@` before it is allowed). */
const MemberName = v.pipe(
	v.string('Give the person’s username.'),
	v.trim(),
	v.transform((name) => name.replace(/^@/, '')),
	Username,
	v.description('A username (not case-sensitive; an `@` before it is allowed).')
);

export const NewRoom = v.variant('kind', [
	v.object({
		kind: v.pipe(v.literal('group'), v.description('Invite-only: its members add people.')),
		name: RoomName,
		description: v.optional(Description, ''),
		members: v.pipe(
			v.optional(
				v.pipe(
					v.array(MemberName),
					v.maxLength(MAX_GROUP_INVITEES, `Add at most ${MAX_GROUP_INVITEES} people at once.`)
				),
				[]
			),
			v.description('Friends of yours to add at once, by username.')
		)
	}),
	v.object({
		kind: v.pipe(v.literal('public'), v.description('Listed in the directory; anyone may join.')),
		name: RoomName,
		description: v.optional(Description, ''),
		// Nobody is added to a public room: people join it themselves.
		members: v.optional(
			v.pipe(v.array(v.string()), v.maxLength(0, 'A public room has no one to add: people join.'))
		)
	})
]);

export const RoomChanges = v.pipe(
	v.object({ name: v.optional(RoomName), description: v.optional(Description) }),
	v.check(
		(changes) => changes.name !== undefined || changes.description !== undefined,
		'Give a new `name` or `description`.'
	)
);

export const SettingsChanges = v.pipe(
	v.object({
		notify: v.pipe(
			v.optional(v.picklist(NOTIFY, 'Choose all, mentions or mute.')),
			v.description('What notifies me: every message, mentions of me, or nothing.')
		),
		pinned: v.optional(v.boolean()),
		archived: v.optional(v.boolean())
	}),
	v.check(
		(s) => s.notify !== undefined || s.pinned !== undefined || s.archived !== undefined,
		'Give `notify`, `pinned` or `archived`.'
	)
);

export const MemberPath = v.object({
	id: v.pipe(Id, v.description('The room’s id.')),
	userId: v.pipe(Id, v.description('The person’s id.'))
});
export const InvitePath = v.object({
	id: v.pipe(Id, v.description('The room’s id.')),
	inviteId: v.pipe(Id, v.description('The link’s id (from the list of links).'))
});
export const InviteCodePath = v.object({
	code: v.pipe(
		v.string(),
		v.regex(/^[a-z0-9]{1,100}$/, 'must be an invite code'),
		v.description('The code at the end of the invite link (`/invite/{code}`).')
	)
});

export const AddMember = v.object({ username: MemberName });
export const RoleChange = v.object({
	role: v.picklist(['admin', 'member'], 'Choose admin or member.')
});
export const Transfer = v.object({
	userId: v.pipe(Id, v.description('The member who becomes the owner; you stay on as an admin.'))
});

export const NewInvite = v.object({
	lifetime: v.pipe(
		v.picklist(Object.keys(INVITE_LIFETIMES) as InviteLifetime[], 'Choose how long it works.'),
		v.description('How long the link works.')
	),
	maxUses: v.pipe(
		v.optional(
			v.nullable(
				v.pipe(
					v.number(),
					v.integer('Give a whole number of uses.'),
					v.minValue(1, `Between 1 and ${MAX_INVITE_USES} uses.`),
					v.maxValue(MAX_INVITE_USES, `Between 1 and ${MAX_INVITE_USES} uses.`)
				)
			),
			null
		),
		v.description('How many people may join with it; unlimited when absent or null.')
	)
});

/**
 * A cursor as the lists give it (`nextCursor`): opaque to the caller, the position in the list
 * to us. One a list did not give is a bad request, not an empty page.
 */
function Cursor<T>(position: v.GenericSchema<unknown, T>) {
	return v.pipe(
		v.string(),
		v.rawTransform<string, T>(({ dataset, addIssue, NEVER }) => {
			try {
				const text = new TextDecoder().decode(decodeBase64urlIgnorePadding(dataset.value));
				const parsed = v.safeParse(position, JSON.parse(text));
				if (parsed.success) return parsed.output;
			} catch {
				// Not base64url or not JSON: said below.
			}
			addIssue({ message: 'must be a cursor this list gave (`nextCursor`)' });
			return NEVER;
		}),
		v.description('Where to go on: the `nextCursor` of the page before.')
	);
}

function cursorOf(position: unknown): string {
	return encodeBase64urlNoPadding(new TextEncoder().encode(JSON.stringify(position)));
}

const PageLimit = v.pipe(
	v.optional(countParam(MEMBER_LIST_LIMIT), '100'),
	v.description(`How many (1 to ${MEMBER_LIST_LIMIT}; 100 when absent).`)
);

/** A member's place in the member list's order: the last one of a page. */
const MemberPosition = v.pipe(
	v.tuple([v.picklist(ROLES), v.string(), Id]),
	v.transform(([role, displayName, id]) => ({ role, displayName, id }))
);

export const MembersQuery = v.object({
	limit: PageLimit,
	cursor: v.optional(Cursor(MemberPosition))
});
export const BansQuery = v.object({ limit: PageLimit, cursor: v.optional(Cursor(v.string())) });

/** The cursor after a page of members, or null when it was the last page. */
export function membersCursor(
	last: { role: string; displayName: string; id: string } | undefined,
	more: boolean
): string | null {
	return more && last ? cursorOf([last.role, last.displayName, last.id]) : null;
}

/** The cursor after a page of bans (by username), or null when it was the last page. */
export function bansCursor(last: { username: string } | undefined, more: boolean): string | null {
	return more && last ? cursorOf(last.username) : null;
}

// ---- What the routes answer ----

export const RoomDetails = v.object({
	id: v.string(),
	kind: v.picklist(['direct', 'group', 'public']),
	/** A direct conversation is named after the other person. */
	name: v.string(),
	description: v.string(),
	memberCount: v.number(),
	/** The room's icon (`/files/<id>`), or null: initials. Direct conversations have none. */
	icon: v.nullable(v.string()),
	createdAt: v.number(),
	/** Mine, or null when I only may see the room (a public room I have not joined). */
	membership: v.nullable(
		v.object({
			role: v.picklist(ROLES),
			notify: v.picklist(NOTIFY),
			pinned: v.boolean(),
			archived: v.boolean()
		})
	)
});
export const RoomAnswer = v.object({ room: RoomDetails });

/** The room as `userId` sees it, with their membership of it. */
export async function roomAnswer(
	db: Db,
	userId: string,
	{ room, membership }: { room: Room; membership: Membership | null }
): Promise<v.InferOutput<typeof RoomAnswer>> {
	return {
		room: {
			id: room.id,
			kind: room.kind,
			name: await peerNameOf(db, room, userId),
			description: room.description,
			memberCount: room.memberCount,
			icon: pictureUrl(room.iconKey),
			createdAt: room.createdAt,
			membership: membership && {
				role: membership.role,
				notify: membership.notify,
				pinned: membership.pinned,
				archived: membership.archived
			}
		}
	};
}

export const MemberList = v.object({
	members: v.array(
		v.object({
			id: v.string(),
			username: v.string(),
			displayName: v.string(),
			role: v.picklist(ROLES),
			joinedAt: v.number(),
			/** A bot (made for this room by its admins) or a person. */
			kind: v.picklist(['person', 'bot'])
		})
	),
	nextCursor: v.nullable(v.string())
});

export const BanList = v.object({
	bans: v.array(v.object({ id: v.string(), username: v.string(), displayName: v.string() })),
	nextCursor: v.nullable(v.string())
});

export const InviteList = v.object({
	invites: v.array(
		v.object({
			/** Names the link (to revoke it) without being its code. */
			id: v.string(),
			createdAt: v.number(),
			createdByName: v.string(),
			expiresAt: v.nullable(v.number()),
			maxUses: v.nullable(v.number()),
			uses: v.number(),
			state: v.picklist(['active', 'expired', 'revoked', 'used_up'])
		})
	)
});

export const CreatedInvite = v.object({
	id: v.string(),
	/** Shown this once: only its hash is kept. */
	code: v.string(),
	url: v.string()
});

export const InvitePreview = v.object({
	room: v.object({
		id: v.string(),
		kind: v.picklist(['direct', 'group', 'public']),
		name: v.string(),
		description: v.string(),
		memberCount: v.number()
	}),
	/** I am in the room already: redeeming the link just answers it. */
	joined: v.boolean()
});
