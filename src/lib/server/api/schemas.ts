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
	/** A person, or a bot (made by a room's admins, acting only through tokens and its webhook). */
	kind: v.picklist(['person', 'bot']),
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

/** What a search answers (`SearchResults` in src/lib/server/search). */
export const SearchAnswer = v.object({
	query: v.object({
		terms: v.array(
			v.union([
				v.object({ kind: v.literal('word'), text: v.string(), prefix: v.boolean() }),
				v.object({ kind: v.literal('phrase'), text: v.string() })
			])
		),
		from: v.array(v.string()),
		in: v.array(v.string()),
		has: v.array(v.string()),
		before: v.nullable(v.string()),
		after: v.nullable(v.string())
	}),
	messages: v.object({
		items: v.array(
			v.object({
				roomId: v.string(),
				roomName: v.string(),
				roomKind: v.picklist(['direct', 'group', 'public']),
				joined: v.boolean(),
				seq: v.number(),
				createdAt: v.number(),
				editedAt: v.nullable(v.number()),
				author: v.nullable(
					v.object({
						id: v.string(),
						username: v.string(),
						displayName: v.string(),
						picture: v.nullable(v.string())
					})
				),
				/** The message around the match, matched words marked. */
				snippet: v.array(v.object({ text: v.string(), match: v.boolean() })),
				files: v.array(v.string())
			})
		),
		nextCursor: v.nullable(v.string())
	}),
	people: v.array(
		v.object({
			id: v.string(),
			username: v.string(),
			displayName: v.string(),
			picture: v.nullable(v.string())
		})
	),
	rooms: v.array(
		v.object({
			id: v.string(),
			name: v.string(),
			picture: v.nullable(v.string()),
			memberCount: v.number(),
			joined: v.boolean()
		})
	)
});

/** A file as its uploader is told of it (`FileInfo`): attach it to a message by its `id`. */
export const FileAnswer = v.object({
	id: v.string(),
	name: v.string(),
	type: v.string(),
	kind: v.picklist(['image', 'video', 'audio', 'document']),
	size: v.number(),
	width: v.nullable(v.number()),
	height: v.nullable(v.number()),
	placeholder: v.nullable(v.string()),
	/** Where the web app serves it; scripts read it from `/api/v1/files/{id}`. */
	url: v.string()
});
