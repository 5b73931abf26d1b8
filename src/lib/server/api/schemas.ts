// What the API answers, as valibot schemas: the reference documents them (`openapi.ts`), and the
// tests hold the answers to them. Request schemas sit with their routes.
import * as v from 'valibot';
import { ChatMessage } from '$shared/protocol';

export { ChatMessage };

/** A room id, a user id, a token id: our random ids. */
export const Id = v.pipe(v.string(), v.regex(/^[a-z0-9]{1,64}$/, 'must be an id'));
/** A message's place in its room. */
export const SeqParam = v.pipe(
	v.string(),
	v.regex(/^[1-9]\d{0,14}$/, 'must be a message number (1 or more)'),
	v.transform(Number)
);
export const RoomPath = v.object({ id: v.pipe(Id, v.description('The room’s id.')) });
export const MessagePath = v.object({
	id: v.pipe(Id, v.description('The room’s id.')),
	seq: v.pipe(SeqParam, v.description('The message’s number in its room (`seq`).'))
});

export const Person = v.object({
	id: v.string(),
	username: v.string(),
	displayName: v.string(),
	picture: v.optional(v.nullable(v.string()))
});

export const Me = v.object({
	...Person.entries,
	email: v.string(),
	emailVerified: v.boolean(),
	/** How this request signed in. */
	via: v.picklist(['session', 'token']),
	token: v.nullable(
		v.object({
			id: v.string(),
			scope: v.picklist(['read', 'write']),
			rooms: v.nullable(v.array(v.string()))
		})
	)
});

export const RoomSummary = v.object({
	id: v.string(),
	kind: v.picklist(['direct', 'group', 'public']),
	name: v.string(),
	peer: v.nullable(v.object({ id: v.string(), username: v.string(), displayName: v.string() })),
	picture: v.optional(v.nullable(v.string())),
	lastMessageAt: v.nullable(v.number()),
	activeAt: v.number(),
	lastMessagePreview: v.string(),
	lastMessageSeq: v.number(),
	unread: v.number(),
	pinned: v.boolean(),
	archived: v.boolean(),
	notify: v.picklist(['all', 'mentions', 'mute'])
});

export const HistoryPage = v.object({
	messages: v.array(ChatMessage),
	/** More messages lie beyond this page in the direction asked. */
	hasMore: v.boolean()
});
export const HistoryWindow = v.object({
	messages: v.array(ChatMessage),
	hasOlder: v.boolean(),
	hasNewer: v.boolean()
});

export const MessageAnswer = v.object({ message: ChatMessage });
