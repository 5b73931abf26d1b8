// A person's own data, as one ZIP they download from settings: their account, friends, blocks,
// the rooms they are in, every message they wrote and the files they uploaded. Nothing of anyone
// else's conversations: of other people, only the names that the person's own lists show (friends,
// blocks, the other side of a direct conversation), and none of their messages.
//
// The archive is streamed: the ZIP is written as the download reads it, the messages come from D1
// a page at a time and each file's bytes go from R2 straight into the archive, so a person with
// years of history costs one page of memory, not their whole history.
//
// The ZIP is made by `client-zip`: small, no dependencies, nothing but web streams (so it runs on
// Workers as it does in a browser), it pulls its entries from an async iterable only as fast as
// the download reads, and it writes ZIP64 when an archive grows past 4 GB. It stores entries
// without compressing them, which costs bytes on the JSON but keeps the CPU time of a large
// export to a checksum, well inside a Worker's limits; the files are mostly compressed already.
import { makeZip } from 'client-zip';
import { alias } from 'drizzle-orm/sqlite-core';
import { and, asc, eq, gt, isNotNull, or, sql } from 'drizzle-orm';
import type { Db } from '$lib/server/db';
import { blocks, files, friendships, memberships, messages, rooms, users } from '$shared/db/schema';
import { friendshipsOf, otherInFriendship } from '$shared/db/friends';
import { parseStoredAttachments } from '$shared/protocol';
import { parseReactionMap } from '$shared/protocol/stored';
import { getAccount, type Account } from '$lib/server/accounts/accounts';
import { listLinkedProviders } from '$lib/server/auth/oauth-accounts';
import { listTokens } from '$lib/server/api/tokens';
import { DELETED_USER_NAME } from '$lib/server/rooms/history';
import { attachment, isoDay, isoTime } from './stream';

/** Messages read from D1 per query (and written to the archive per step). */
export const MESSAGE_PAGE_SIZE = 500;
/** File rows read per query. */
const FILE_PAGE_SIZE = 100;

export type ArchiveDeps = { db: Db; bucket: R2Bucket };

/** What the settings page's download answers: the archive, with its name. */
export async function personalArchiveResponse(
	deps: ArchiveDeps,
	userId: string,
	now = Date.now()
): Promise<Response | null> {
	const account = await getAccount(deps.db, userId);
	if (!account) return null;
	return new Response(makeZip(archiveEntries(deps, account, new Date(now))), {
		headers: {
			'Content-Type': 'application/zip',
			'Content-Disposition': attachment(`parley-${account.username}-${isoDay(now)}.zip`),
			'Cache-Control': 'private, no-store'
		}
	});
}

const README = `Your Parley data

profile.json    your account: names, email, bio, preferences, sign-in providers, API tokens
                (names and scopes only: no passwords, sessions or token secrets are exported)
friends.json    your friends and open friend requests
blocks.json     the people you blocked
rooms.json      the rooms and direct conversations you are in, and your role in each
messages.jsonl  every message you wrote, one JSON object a line, in every room (a room you are
                no longer in is named only by its id); deleted messages are kept as tombstones
files/          the files you uploaded that still exist, indexed by files.json

Times are ISO 8601, in UTC.
`;

/** The archive's entries, each made only when the ZIP reaches it. */
async function* archiveEntries({ db, bucket }: ArchiveDeps, account: Account, now: Date) {
	const userId = account.id;
	yield { name: 'README.txt', input: README, lastModified: now };
	yield json('profile.json', await profileOf(db, account), now);
	yield json('friends.json', await friendsOf(db, userId), now);
	yield json('blocks.json', await blocksOf(db, userId), now);
	yield json('rooms.json', await roomsOf(db, userId), now);
	yield { name: 'messages.jsonl', input: ownMessages(db, userId), lastModified: now };

	// The index is written last, so that it says which files the archive really holds; it keeps
	// only each file's description, never its bytes.
	const index: FileEntry[] = [];
	for await (const file of ownFiles(db, userId)) {
		const object = await bucket.get(file.r2Key);
		const path = object ? `files/${file.id}-${archiveName(file.name)}` : null;
		index.push({
			id: file.id,
			name: file.name,
			type: file.type,
			kind: file.kind,
			size: file.size,
			purpose: file.purpose,
			room: file.roomId,
			messageSeq: file.messageSeq,
			uploadedAt: isoTime(file.createdAt),
			path
		});
		if (object && path) {
			yield {
				name: path,
				input: object.body,
				size: object.size,
				lastModified: new Date(file.createdAt)
			};
		}
	}
	yield json('files.json', index, now);
}

function json(name: string, value: unknown, lastModified: Date) {
	return { name, input: `${JSON.stringify(value, null, 2)}\n`, lastModified };
}

/** The account as the settings pages show it; never its password hash, sessions or secrets. */
async function profileOf(db: Db, account: Account) {
	const [providers, tokens] = await Promise.all([
		listLinkedProviders(db, account.id),
		listTokens(db, account.id)
	]);
	return {
		username: account.username,
		displayName: account.displayName,
		email: account.email,
		emailVerifiedAt: isoTime(account.emailVerifiedAt),
		bio: account.bio,
		statusText: account.statusText,
		// The picture's bytes are under files/ when it still exists.
		pictureFileId: account.avatarKey,
		createdAt: isoTime(account.createdAt),
		preferences: {
			directMessages: account.dmPolicy,
			sendReadReceipts: account.sendReadReceipts,
			timeZone: account.timeZone,
			quietHours:
				account.dndStart !== null && account.dndEnd !== null
					? { from: timeOfDay(account.dndStart), to: timeOfDay(account.dndEnd) }
					: null,
			notificationsPausedUntil: isoTime(account.dndUntil)
		},
		signInProviders: providers.map((p) => ({
			provider: p.provider,
			email: p.email,
			linkedAt: isoTime(p.createdAt)
		})),
		apiTokens: tokens.map((t) => ({
			name: t.name,
			scope: t.scope,
			rooms: t.rooms,
			createdAt: isoTime(t.createdAt),
			expiresAt: isoTime(t.expiresAt),
			lastUsedAt: isoTime(t.lastUsedAt)
		}))
	};
}

function timeOfDay(minutes: number): string {
	const pad = (n: number) => String(n).padStart(2, '0');
	return `${pad(Math.floor(minutes / 60))}:${pad(minutes % 60)}`;
}

async function friendsOf(db: Db, userId: string) {
	const rows = await db
		.select({
			username: users.username,
			displayName: users.displayName,
			deletedAt: users.deletedAt,
			status: friendships.status,
			requestedBy: friendships.requestedBy,
			createdAt: friendships.createdAt,
			acceptedAt: friendships.acceptedAt
		})
		.from(friendships)
		.innerJoin(users, eq(users.id, otherInFriendship(userId)))
		.where(friendshipsOf(userId))
		.orderBy(asc(users.usernameKey));
	const live = rows.filter((row) => row.deletedAt === null);
	const person = (row: (typeof rows)[number]) => ({
		username: row.username,
		displayName: row.displayName
	});
	return {
		friends: live
			.filter((row) => row.status === 'accepted')
			.map((row) => ({ ...person(row), since: isoTime(row.acceptedAt ?? row.createdAt) })),
		requestsReceived: live
			.filter((row) => row.status === 'pending' && row.requestedBy !== userId)
			.map((row) => ({ ...person(row), sentAt: isoTime(row.createdAt) })),
		requestsSent: live
			.filter((row) => row.status === 'pending' && row.requestedBy === userId)
			.map((row) => ({ ...person(row), sentAt: isoTime(row.createdAt) }))
	};
}

async function blocksOf(db: Db, userId: string) {
	const rows = await db
		.select({
			username: users.username,
			displayName: users.displayName,
			deletedAt: users.deletedAt,
			createdAt: blocks.createdAt
		})
		.from(blocks)
		.innerJoin(users, eq(users.id, blocks.blockedId))
		.where(eq(blocks.blockerId, userId))
		.orderBy(asc(users.usernameKey));
	return rows.map((row) => ({
		username: row.deletedAt === null ? row.username : null,
		displayName: row.deletedAt === null ? row.displayName : DELETED_USER_NAME,
		blockedAt: isoTime(row.createdAt)
	}));
}

const peer = alias(users, 'peer');

async function roomsOf(db: Db, userId: string) {
	// A direct room's key is its two people's ids, sorted and joined by ':': the other one is the
	// peer, found by its primary key.
	const first = sql`substr(${rooms.directKey}, 1, instr(${rooms.directKey}, ':') - 1)`;
	const second = sql`substr(${rooms.directKey}, instr(${rooms.directKey}, ':') + 1)`;
	const rows = await db
		.select({
			id: rooms.id,
			kind: rooms.kind,
			name: rooms.name,
			role: memberships.role,
			joinedAt: memberships.joinedAt,
			notify: memberships.notify,
			pinned: memberships.pinned,
			archived: memberships.archived,
			peerUsername: peer.username,
			peerDisplayName: peer.displayName,
			peerDeletedAt: peer.deletedAt
		})
		.from(memberships)
		.innerJoin(rooms, eq(rooms.id, memberships.roomId))
		.leftJoin(
			peer,
			and(
				eq(rooms.kind, 'direct'),
				eq(peer.id, sql`CASE WHEN ${first} = ${userId} THEN ${second} ELSE ${first} END`)
			)
		)
		.where(eq(memberships.userId, userId))
		.orderBy(asc(memberships.joinedAt), asc(rooms.id));
	return rows.map((row) => ({
		id: row.id,
		kind: row.kind,
		...(row.kind === 'direct'
			? {
					with:
						row.peerUsername !== null && row.peerDeletedAt === null
							? { username: row.peerUsername, displayName: row.peerDisplayName }
							: { username: null, displayName: DELETED_USER_NAME }
				}
			: { name: row.name, role: row.role }),
		joinedAt: isoTime(row.joinedAt),
		notifications: row.notify,
		pinned: row.pinned,
		archived: row.archived
	}));
}

/**
 * Every message the person wrote, one JSON line each, a page per step. Of each message only what
 * is theirs: its words, the seq it answers (not the other message's words), how many reacted with
 * what (not who), and the files it carries.
 *
 * The pages follow `rowid` within the person's rows of the `messages_sender_idx` index (which is
 * `(sender_id, rowid)`), so each page is one range of that index, and rows come in the order the
 * rooms wrote them, oldest first. A `(room_id, seq)` cursor would have to sort all of the person's
 * messages again for every page: no index has both the sender and the seq.
 *
 * D1 is read, not the rooms' objects: a room copies a message to D1 within a second of its
 * sending (the flush runs 250 ms after a write), so only what was sent in that second is missing.
 */
async function* ownMessages(db: Db, userId: string): AsyncGenerator<string> {
	const rowid = sql<number>`${messages}.rowid`;
	let after = 0;
	for (;;) {
		const page = await db
			.select({
				rowid,
				roomId: messages.roomId,
				seq: messages.seq,
				body: messages.body,
				replyToSeq: messages.replyToSeq,
				reactions: messages.reactions,
				createdAt: messages.createdAt,
				editedAt: messages.editedAt,
				deletedAt: messages.deletedAt,
				attachments: messages.attachments
			})
			.from(messages)
			.where(and(eq(messages.senderId, userId), eq(messages.kind, 'text'), gt(rowid, after)))
			.orderBy(rowid)
			.limit(MESSAGE_PAGE_SIZE);
		if (page.length === 0) return;
		let lines = '';
		for (const row of page) {
			const reactions = Object.fromEntries(
				Object.entries(parseReactionMap(row.reactions)).map(([emoji, ids]) => [emoji, ids.length])
			);
			lines += `${JSON.stringify({
				room: row.roomId,
				seq: row.seq,
				sentAt: isoTime(row.createdAt),
				body: row.body,
				replyToSeq: row.replyToSeq ?? undefined,
				editedAt: isoTime(row.editedAt) ?? undefined,
				deletedAt: isoTime(row.deletedAt) ?? undefined,
				reactions: Object.keys(reactions).length > 0 ? reactions : undefined,
				attachments: parseStoredAttachments(row.attachments)?.map((a) => ({
					id: a.id,
					name: a.name,
					type: a.type,
					size: a.size
				}))
			})}\n`;
		}
		yield lines;
		if (page.length < MESSAGE_PAGE_SIZE) return;
		after = page.at(-1)!.rowid;
	}
}

type FileEntry = {
	id: string;
	name: string;
	type: string;
	kind: string;
	size: number;
	purpose: string;
	room: string | null;
	messageSeq: number | null;
	uploadedAt: string | null;
	/** Where its bytes are in the archive; null when they could not be read. */
	path: string | null;
};

/**
 * The files the person uploaded that still exist: pictures, and attachments whose room is still
 * there (a deleted room's files wait for the cleanup job, and nobody may read them any more).
 */
async function* ownFiles(db: Db, userId: string) {
	let after = '';
	for (;;) {
		const page = await db
			.select()
			.from(files)
			.where(
				and(
					eq(files.uploaderId, userId),
					or(isNotNull(files.roomId), sql`${files.purpose} <> 'attachment'`),
					gt(files.id, after)
				)
			)
			.orderBy(asc(files.id))
			.limit(FILE_PAGE_SIZE);
		yield* page;
		if (page.length < FILE_PAGE_SIZE) return;
		after = page.at(-1)!.id;
	}
}

/** A stored name as an archive path's last segment: never a folder or a way out of `files/`. */
function archiveName(name: string): string {
	return name.replace(/[/\\]/g, '_').replace(/^\.+/, '_') || 'file';
}
