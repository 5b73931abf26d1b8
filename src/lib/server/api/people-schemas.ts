// What the People and Friends routes take and answer. The shapes follow what the operations in
// `$lib/server/people` return, so the pages and the API show a person the same way.
import * as v from 'valibot';
import type { Db } from '$lib/server/db';
import { Username } from '$lib/server/forms';
import { findPersonId } from '$lib/server/people/people';
import { ApiError } from './endpoint';
import { Person, RoomSummary } from './schemas';

// The rule usernames are made by, its steps spread out so that the reference shows them.
const [, ...usernameRule] = Username.pipe;

/** A person named by their username, in a path or a body. */
const PersonName = v.pipe(
	v.string('Give the person’s username.'),
	...usernameRule,
	v.description('The person’s username (not case-sensitive).')
);

/** The id behind a username, as the profile page's actions find it; a missing person is 404. */
export async function personIdOf(db: Db, username: string): Promise<string> {
	const id = await findPersonId(db, username);
	if (!id) throw new ApiError(404, 'not_found', 'There is no such person.');
	return id;
}

export const PersonPath = v.object({ username: PersonName });
export const PersonBody = v.object({ username: PersonName });

export const PeopleQuery = v.object({
	q: v.pipe(
		v.string('Give something to search for, as `q`.'),
		v.trim(),
		v.nonEmpty('Give something to search for, as `q`.'),
		v.maxLength(64, 'Search for at most 64 characters.'),
		v.description('The start of a username (an `@` before it is allowed) or a display name.')
	)
});

/** A person in a list: search results, friends, requests, blocks. */
export const PersonSummary = v.object({
	...Person.entries,
	statusText: v.string(),
	/** Their profile picture (`/files/<id>`), or null: initials. */
	picture: v.nullable(v.string())
});

/** How I stand with a person. */
export const Relation = v.picklist(['self', 'friends', 'incoming', 'outgoing', 'none']);

export const PersonResult = v.object({ ...PersonSummary.entries, relation: Relation });

export const PeopleAnswer = v.object({ people: v.array(PersonResult) });

export const Profile = v.object({
	...PersonSummary.entries,
	/** A bot cannot be befriended or messaged directly. */
	kind: v.picklist(['person', 'bot']),
	bio: v.string(),
	relation: Relation,
	/** I blocked them (their profile stays visible to me, so I can unblock them). */
	blockedByMe: v.boolean(),
	/** Who may start a conversation with them. */
	dmPolicy: v.picklist(['friends', 'everyone']),
	/** Whether `POST /api/v1/direct` would open a conversation with them now. */
	mayMessage: v.boolean(),
	mutualFriends: v.array(PersonSummary),
	/** Our direct conversation, if there is one. */
	directRoomId: v.nullable(v.string())
});

export const ProfileAnswer = v.object({ person: Profile });

export const FriendLists = v.object({
	friends: v.array(PersonSummary),
	/** Requests sent to me, waiting for my answer. */
	incoming: v.array(PersonSummary),
	/** Requests I sent, waiting for theirs. */
	outgoing: v.array(PersonSummary)
});

export const FriendRequestAnswer = v.object({
	/** `accepted` when they had already asked me: we are friends now. */
	result: v.picklist(['requested', 'accepted'])
});

export const BlockedAnswer = v.object({ blocked: v.array(PersonSummary) });

export const DirectAnswer = v.object({ room: RoomSummary });
