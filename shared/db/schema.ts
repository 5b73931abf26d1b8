// The system of record. Times are integer milliseconds since the epoch; ids are random base32 text.
import {
	sqliteTable,
	text,
	integer,
	primaryKey,
	index,
	uniqueIndex
} from 'drizzle-orm/sqlite-core';
import { sql } from 'drizzle-orm';

export const users = sqliteTable(
	'users',
	{
		id: text('id').primaryKey(),
		/** Stored lower-cased; unique. */
		email: text('email').notNull(),
		emailVerifiedAt: integer('email_verified_at'),
		/** As the user typed it; uniqueness is on `usernameKey`. */
		username: text('username').notNull(),
		usernameKey: text('username_key').notNull(),
		displayName: text('display_name').notNull(),
		/** Null for accounts that only sign in through a provider. */
		passwordHash: text('password_hash'),
		bio: text('bio').notNull().default(''),
		statusText: text('status_text').notNull().default(''),
		avatarKey: text('avatar_key'),
		dmPolicy: text('dm_policy', { enum: ['friends', 'everyone'] })
			.notNull()
			.default('friends'),
		sendReadReceipts: integer('send_read_receipts', { mode: 'boolean' }).notNull().default(true),
		/**
		 * Whether the user's hub counts them as online (a tab open, or closed within the grace
		 * period). Written by the hub on its two transitions; rooms read it to call only the hubs that
		 * have a tab to tell, instead of every offline member's.
		 */
		hubOnline: integer('hub_online', { mode: 'boolean' }).notNull().default(false),
		/**
		 * Do not disturb, daily: from `dndStart` to `dndEnd` (minutes after midnight in `timeZone`;
		 * the span may cross midnight), no notification alerts. Null when there is no schedule.
		 */
		dndStart: integer('dnd_start'),
		dndEnd: integer('dnd_end'),
		/** Do not disturb until this time (ms), whatever the schedule says; null when not paused. */
		dndUntil: integer('dnd_until'),
		/** An IANA time zone name, as the browser reported it; the schedule is read in it. */
		timeZone: text('time_zone').notNull().default('UTC'),
		/**
		 * A person, or a bot: an account a room's admin made for that room (`botRoomId`), which
		 * cannot sign in and acts only through API tokens and incoming webhooks, limited to its room.
		 */
		kind: text('kind', { enum: ['person', 'bot'] })
			.notNull()
			.default('person'),
		botRoomId: text('bot_room_id'),
		/** Who made the bot (null for people, or once that person's account is gone). */
		botCreatedBy: text('bot_created_by'),
		/**
		 * Suspended by a site admin: signed out everywhere at once, refused at sign-in with the
		 * reason, until unsuspended. `suspendedBy` is the admin (null once their account is gone).
		 */
		suspendedAt: integer('suspended_at'),
		suspendedReason: text('suspended_reason'),
		suspendedBy: text('suspended_by'),
		createdAt: integer('created_at').notNull(),
		deletedAt: integer('deleted_at')
	},
	(t) => [
		uniqueIndex('users_email_unique').on(t.email),
		uniqueIndex('users_username_key_unique').on(t.usernameKey),
		// People search matches display names by prefix, case-insensitively: it ranges over this.
		index('users_display_name_lower_idx').on(sql`lower(${t.displayName})`),
		// A room's bots, for its integrations; people have none, so the index holds bots only.
		index('users_bot_room_idx')
			.on(t.botRoomId)
			.where(sql`${t.botRoomId} is not null`)
	]
);

export const sessions = sqliteTable(
	'sessions',
	{
		/** SHA-256 of the session token, hex. The token itself is never stored. */
		id: text('id').primaryKey(),
		userId: text('user_id')
			.notNull()
			.references(() => users.id, { onDelete: 'cascade' }),
		createdAt: integer('created_at').notNull(),
		lastSeenAt: integer('last_seen_at').notNull(),
		expiresAt: integer('expires_at').notNull(),
		userAgent: text('user_agent').notNull().default(''),
		country: text('country'),
		/**
		 * When this session last proved its user at a linked provider (a provider sign-in or a
		 * re-authentication). An account without a password has nothing else to re-check before a
		 * change of email or a first password.
		 */
		providerAuthAt: integer('provider_auth_at')
	},
	(t) => [index('sessions_user_idx').on(t.userId)]
);

/**
 * Browsers that signed in to an account before, by the SHA-256 of a random token kept in an
 * HttpOnly cookie. One token per browser, one row per account it signed in to; a known browser
 * with the right password is let through an account's lockout (see `password-attempts.ts`).
 */
export const knownDevices = sqliteTable(
	'known_devices',
	{
		tokenHash: text('token_hash').notNull(),
		userId: text('user_id')
			.notNull()
			.references(() => users.id, { onDelete: 'cascade' }),
		createdAt: integer('created_at').notNull(),
		lastUsedAt: integer('last_used_at').notNull()
	},
	(t) => [
		primaryKey({ columns: [t.tokenHash, t.userId] }),
		index('known_devices_user_idx').on(t.userId)
	]
);

/** Single-use emailed tokens (verification, password reset, email change), stored as hashes. */
export const userTokens = sqliteTable(
	'user_tokens',
	{
		id: text('id').primaryKey(),
		userId: text('user_id')
			.notNull()
			.references(() => users.id, { onDelete: 'cascade' }),
		purpose: text('purpose', {
			enum: ['verify_email', 'reset_password', 'change_email']
		}).notNull(),
		email: text('email').notNull(),
		createdAt: integer('created_at').notNull(),
		expiresAt: integer('expires_at').notNull(),
		usedAt: integer('used_at')
	},
	(t) => [index('user_tokens_user_idx').on(t.userId, t.purpose)]
);

/**
 * A sign-up waiting for its address to be proven: the account is made only when the emailed link
 * is opened, so registering never says whether an address already has one. The row is keyed by
 * the hash of the link's secret; the password is already hashed.
 */
export const pendingRegistrations = sqliteTable(
	'pending_registrations',
	{
		tokenHash: text('token_hash').primaryKey(),
		/** Stored lower-cased, as `users.email`. */
		email: text('email').notNull(),
		username: text('username').notNull(),
		displayName: text('display_name').notNull(),
		passwordHash: text('password_hash').notNull(),
		createdAt: integer('created_at').notNull(),
		expiresAt: integer('expires_at').notNull()
	},
	(t) => [
		index('pending_registrations_email_idx').on(t.email),
		index('pending_registrations_expires_idx').on(t.expiresAt)
	]
);

export const oauthAccounts = sqliteTable(
	'oauth_accounts',
	{
		provider: text('provider', { enum: ['github', 'google'] }).notNull(),
		providerUserId: text('provider_user_id').notNull(),
		userId: text('user_id')
			.notNull()
			.references(() => users.id, { onDelete: 'cascade' }),
		email: text('email'),
		createdAt: integer('created_at').notNull()
	},
	(t) => [
		primaryKey({ columns: [t.provider, t.providerUserId] }),
		index('oauth_accounts_user_idx').on(t.userId)
	]
);

/**
 * Sliding-window counters shared by every isolate: the attempts of the current fixed window and of
 * the one before it, which counts in proportion to how much of it still lies within the last
 * `windowMs`.
 */
export const rateLimits = sqliteTable('rate_limits', {
	key: text('key').primaryKey(),
	count: integer('count').notNull(),
	previousCount: integer('previous_count').notNull().default(0),
	windowStart: integer('window_start').notNull()
});

/** The development mailer's outbox. Never written in production. */
export const mailOutbox = sqliteTable('mail_outbox', {
	id: integer('id').primaryKey({ autoIncrement: true }),
	toAddress: text('to_address').notNull(),
	subject: text('subject').notNull(),
	bodyText: text('body_text').notNull(),
	createdAt: integer('created_at').notNull()
});

/** One row per pair, `userLow < userHigh`, so both directions use an index. */
export const friendships = sqliteTable(
	'friendships',
	{
		userLow: text('user_low')
			.notNull()
			.references(() => users.id, { onDelete: 'cascade' }),
		userHigh: text('user_high')
			.notNull()
			.references(() => users.id, { onDelete: 'cascade' }),
		status: text('status', { enum: ['pending', 'accepted'] }).notNull(),
		requestedBy: text('requested_by').notNull(),
		createdAt: integer('created_at').notNull(),
		acceptedAt: integer('accepted_at')
	},
	(t) => [
		primaryKey({ columns: [t.userLow, t.userHigh] }),
		index('friendships_high_idx').on(t.userHigh)
	]
);

export const blocks = sqliteTable(
	'blocks',
	{
		blockerId: text('blocker_id')
			.notNull()
			.references(() => users.id, { onDelete: 'cascade' }),
		blockedId: text('blocked_id')
			.notNull()
			.references(() => users.id, { onDelete: 'cascade' }),
		createdAt: integer('created_at').notNull()
	},
	(t) => [
		primaryKey({ columns: [t.blockerId, t.blockedId] }),
		index('blocks_blocked_idx').on(t.blockedId)
	]
);

export const rooms = sqliteTable(
	'rooms',
	{
		id: text('id').primaryKey(),
		kind: text('kind', { enum: ['direct', 'group', 'public'] }).notNull(),
		name: text('name').notNull().default(''),
		description: text('description').notNull().default(''),
		iconKey: text('icon_key'),
		/** For direct rooms: the two user ids, sorted and joined by ':'. Unique, so one room per pair. */
		directKey: text('direct_key'),
		createdBy: text('created_by').references(() => users.id, { onDelete: 'set null' }),
		createdAt: integer('created_at').notNull(),
		lastMessageAt: integer('last_message_at'),
		lastMessageSeq: integer('last_message_seq').notNull().default(0),
		lastMessagePreview: text('last_message_preview').notNull().default(''),
		memberCount: integer('member_count').notNull().default(0),
		/** Slow mode: each member may send one message per this many seconds (0: off). */
		slowModeSeconds: integer('slow_mode_seconds').notNull().default(0),
		/**
		 * How long its messages live, in seconds; null keeps them. A direct conversation's is its
		 * disappearing messages. The room object expires them (and a site maximum caps it).
		 */
		retentionSeconds: integer('retention_seconds'),
		/**
		 * The room's number in the search index, given by the database when the room is made (the
		 * next after the highest): a message's entry there is `searchKey * 2^32 + seq`, so one
		 * room's entries are one range of the index (`src/lib/server/search`; migration 0011). A
		 * deleted room's range is emptied before it goes, so a number given again finds nothing.
		 */
		searchKey: integer('search_key'),
		/**
		 * `mls`: end-to-end encrypted (docs/e2ee.md). Set when the room is made and never changed:
		 * its messages are ciphertext only the members' devices can read.
		 */
		encryption: text('encryption', { enum: ['mls'] })
	},
	(t) => [
		uniqueIndex('rooms_direct_key_unique').on(t.directKey),
		uniqueIndex('rooms_search_key_unique').on(t.searchKey),
		index('rooms_kind_idx').on(t.kind, t.lastMessageAt)
	]
);

export const memberships = sqliteTable(
	'memberships',
	{
		roomId: text('room_id')
			.notNull()
			.references(() => rooms.id, { onDelete: 'cascade' }),
		userId: text('user_id')
			.notNull()
			.references(() => users.id, { onDelete: 'cascade' }),
		role: text('role', { enum: ['owner', 'admin', 'member'] })
			.notNull()
			.default('member'),
		joinedAt: integer('joined_at').notNull(),
		lastReadSeq: integer('last_read_seq').notNull().default(0),
		notify: text('notify', { enum: ['all', 'mentions', 'mute'] })
			.notNull()
			.default('all'),
		pinned: integer('pinned', { mode: 'boolean' }).notNull().default(false),
		archived: integer('archived', { mode: 'boolean' }).notNull().default(false),
		themeAccent: text('theme_accent'),
		themeBackground: text('theme_background'),
		/** Timed out by the room's owner or an admin: may not send until then (ms). */
		timedOutUntil: integer('timed_out_until')
	},
	(t) => [primaryKey({ columns: [t.roomId, t.userId] }), index('memberships_user_idx').on(t.userId)]
);

export const roomBans = sqliteTable(
	'room_bans',
	{
		roomId: text('room_id')
			.notNull()
			.references(() => rooms.id, { onDelete: 'cascade' }),
		userId: text('user_id')
			.notNull()
			.references(() => users.id, { onDelete: 'cascade' }),
		bannedBy: text('banned_by'),
		createdAt: integer('created_at').notNull()
	},
	(t) => [primaryKey({ columns: [t.roomId, t.userId] })]
);

export const roomInvites = sqliteTable(
	'room_invites',
	{
		/** SHA-256 of the invite code, hex. */
		id: text('id').primaryKey(),
		roomId: text('room_id')
			.notNull()
			.references(() => rooms.id, { onDelete: 'cascade' }),
		createdBy: text('created_by').notNull(),
		createdAt: integer('created_at').notNull(),
		expiresAt: integer('expires_at'),
		maxUses: integer('max_uses'),
		uses: integer('uses').notNull().default(0),
		revokedAt: integer('revoked_at')
	},
	(t) => [index('room_invites_room_idx').on(t.roomId)]
);

/**
 * Message history, copied here by the room object (which owns ordering) in idempotent batches.
 * `(room_id, seq)` is the key; `(room_id, sender_id, client_id)` makes sending idempotent.
 */
export const messages = sqliteTable(
	'messages',
	{
		roomId: text('room_id')
			.notNull()
			.references(() => rooms.id, { onDelete: 'cascade' }),
		seq: integer('seq').notNull(),
		/** Null for system messages. Kept (not cascaded) when a user is deleted. */
		senderId: text('sender_id'),
		clientId: text('client_id').notNull(),
		/**
		 * `sealed`: an encrypted room's message, its body an MLS application message (base64);
		 * `handshake`: an encrypted room's MLS commit, which every device applies in `seq` order.
		 */
		kind: text('kind', { enum: ['text', 'system', 'sealed', 'handshake'] })
			.notNull()
			.default('text'),
		body: text('body').notNull(),
		replyToSeq: integer('reply_to_seq'),
		/** JSON array of mentioned user ids. */
		mentions: text('mentions').notNull().default('[]'),
		/** JSON object `{ emoji: userId[] }`. */
		reactions: text('reactions').notNull().default('{}'),
		createdAt: integer('created_at').notNull(),
		editedAt: integer('edited_at'),
		deletedAt: integer('deleted_at'),
		/** Who deleted it, when not its sender: the tombstone says it was removed by an admin. */
		deletedBy: text('deleted_by'),
		/** Deleted because it outlived the room's retention: a tombstone nobody needs to see. */
		expired: integer('expired', { mode: 'boolean' }).notNull().default(false),
		/**
		 * JSON array of the files it carries (the protocol's `Attachment`), as the room recorded them;
		 * null for none, and once the message is deleted.
		 */
		attachments: text('attachments')
	},
	(t) => [
		primaryKey({ columns: [t.roomId, t.seq] }),
		uniqueIndex('messages_client_unique').on(t.roomId, t.senderId, t.clientId),
		index('messages_sender_idx').on(t.senderId)
	]
);

/**
 * Uploaded files: the metadata here, the bytes in R2 under `r2Key`. The id is what URLs carry
 * (`/files/<id>`); the key is another random value, so neither the bucket's listing nor a leaked
 * key names a file's URL, its room or its name.
 *
 * Rows are never cascade-deleted: a row is the only record of where its bytes are, and a row gone
 * before its object would leave the object in R2 forever. Deleting a room sets `room_id` to null
 * (so the room's deletion never fails on files, and no one can read them: a file without a room
 * is served to nobody); the realtime worker's cleanup job (`file-cleanup.ts`) deletes the R2
 * object of every row without a room, then the row. A user row is never hard-deleted (account deletion
 * blanks it), so `uploader_id` restricts: a hard delete must remove the person's files first.
 */
export const files = sqliteTable(
	'files',
	{
		id: text('id').primaryKey(),
		/** `f/<random id>`: reveals nothing, and is never chosen by the uploader. */
		r2Key: text('r2_key').notNull(),
		uploaderId: text('uploader_id')
			.notNull()
			.references(() => users.id),
		/** Null once the room is deleted: the file waits for the cleanup job. */
		roomId: text('room_id').references(() => rooms.id, { onDelete: 'set null' }),
		/** The name the uploader gave, sanitized (no path, no control characters, capped). */
		name: text('name').notNull(),
		/** The MIME type decided from the bytes, never from the name or the declared type. */
		type: text('type').notNull(),
		kind: text('kind', { enum: ['image', 'video', 'audio', 'document'] }).notNull(),
		size: integer('size').notNull(),
		width: integer('width'),
		height: integer('height'),
		/** A small placeholder the browser computed (a thumbhash, base64). */
		placeholder: text('placeholder'),
		createdAt: integer('created_at').notNull(),
		/** The message that carries the file, once one does; null while unattached. */
		messageSeq: integer('message_seq'),
		/**
		 * What the file is for: a message's attachment (in `room_id`, carried by `message_seq`), a
		 * person's profile picture (`users.avatar_key` names it; no room) or a room's icon
		 * (`rooms.icon_key`). The cleanup job's rules for attachments never touch the other two.
		 */
		purpose: text('purpose', { enum: ['attachment', 'avatar', 'icon'] })
			.notNull()
			.default('attachment')
	},
	(t) => [
		uniqueIndex('files_r2_key_unique').on(t.r2Key),
		index('files_room_idx').on(t.roomId, t.createdAt),
		index('files_uploader_idx').on(t.uploaderId, t.size),
		// The cleanup's other question, uploads never attached by age, without reading every file.
		index('files_unattached_idx')
			.on(t.createdAt)
			.where(sql`${t.messageSeq} IS NULL`)
	]
);

/**
 * Multipart uploads under way (R2's multipart upload, for files above the single-request
 * threshold). The binding cannot list an upload's parts, so each finished part's etag is kept in
 * `upload_parts`; a dropped connection or a reload resumes from them. Completing an upload makes
 * a `files` row and deletes this one; the cleanup job aborts uploads left unfinished. Like files,
 * a row is the only record of its R2 upload, so deleting a room only sets `room_id` to null.
 */
export const uploads = sqliteTable(
	'uploads',
	{
		id: text('id').primaryKey(),
		/** The key the finished object will have: `f/<random id>`, as for a single-request upload. */
		r2Key: text('r2_key').notNull(),
		/** R2's id of the multipart upload, to resume, complete or abort it. */
		r2UploadId: text('r2_upload_id').notNull(),
		uploaderId: text('uploader_id')
			.notNull()
			.references(() => users.id),
		roomId: text('room_id').references(() => rooms.id, { onDelete: 'set null' }),
		name: text('name').notNull(),
		kindHint: text('kind_hint', { enum: ['audio', 'video'] }),
		/** The whole file's size, declared when the upload starts; counted against the quota. */
		size: integer('size').notNull(),
		/** Every part but the last is exactly this long. */
		partSize: integer('part_size').notNull(),
		/** Decided from the first part's bytes, when it arrives. */
		type: text('type'),
		kind: text('kind', { enum: ['image', 'video', 'audio', 'document'] }),
		width: integer('width'),
		height: integer('height'),
		placeholder: text('placeholder'),
		createdAt: integer('created_at').notNull()
	},
	(t) => [
		uniqueIndex('uploads_r2_key_unique').on(t.r2Key),
		index('uploads_uploader_idx').on(t.uploaderId),
		index('uploads_created_idx').on(t.createdAt)
	]
);

export const uploadParts = sqliteTable(
	'upload_parts',
	{
		uploadId: text('upload_id')
			.notNull()
			.references(() => uploads.id, { onDelete: 'cascade' }),
		/** 1-based, as R2 numbers parts. */
		partNumber: integer('part_number').notNull(),
		etag: text('etag').notNull(),
		size: integer('size').notNull()
	},
	(t) => [primaryKey({ columns: [t.uploadId, t.partNumber] })]
);

/**
 * The notifications inbox: what happened that concerns a person (a mention, a reply to their
 * message, a direct message, a friend request or its answer, being added to a group). Rows for
 * messages are written by the room's flush in the same D1 batch as the message; the others by the
 * app where the thing happens. `key` makes each write idempotent: one row per message for a mention
 * or reply (`mention:<room>:<seq>`), one row per direct conversation (`direct:<room>`) that a new
 * message brings back as unread with its count and last line, one per friend event.
 */
export const notifications = sqliteTable(
	'notifications',
	{
		id: text('id').primaryKey(),
		userId: text('user_id')
			.notNull()
			.references(() => users.id, { onDelete: 'cascade' }),
		kind: text('kind', {
			enum: [
				'mention',
				'reply',
				'direct',
				'friend_request',
				'friend_accepted',
				'group_added',
				'webhook_disabled'
			]
		}).notNull(),
		key: text('key').notNull(),
		roomId: text('room_id').references(() => rooms.id, { onDelete: 'cascade' }),
		/** The message it is about, for the room's history window `around` it. */
		seq: integer('seq'),
		/** Who did it; null for a deleted account. The name is read from `users` when shown. */
		actorId: text('actor_id').references(() => users.id, { onDelete: 'set null' }),
		/** The message's one-line preview, or empty. */
		preview: text('preview').notNull().default(''),
		/** How many messages it stands for (a direct conversation's, since it was last read). */
		count: integer('count').notNull().default(1),
		createdAt: integer('created_at').notNull(),
		/** When it last changed; the inbox is ordered by it. */
		updatedAt: integer('updated_at').notNull(),
		readAt: integer('read_at')
	},
	(t) => [
		uniqueIndex('notifications_user_key_unique').on(t.userId, t.key),
		// A deleted or expired message's preview is cleared from every inbox row about it.
		index('notifications_room_seq_idx').on(t.roomId, t.seq),
		index('notifications_user_updated_idx').on(t.userId, t.updatedAt),
		index('notifications_unread_idx')
			.on(t.userId)
			.where(sql`${t.readAt} IS NULL`)
	]
);

/**
 * Web Push subscriptions, one per browser (device) that turned notifications on. The endpoint is
 * the push service's URL for that browser; `p256dh` and `auth` are its keys (RFC 8291), base64url.
 * A 404 or 410 from the push service deletes the row.
 */
export const pushSubscriptions = sqliteTable(
	'push_subscriptions',
	{
		id: text('id').primaryKey(),
		userId: text('user_id')
			.notNull()
			.references(() => users.id, { onDelete: 'cascade' }),
		endpoint: text('endpoint').notNull(),
		p256dh: text('p256dh').notNull(),
		auth: text('auth').notNull(),
		/** What the person sees in settings ("Chrome on Linux"), from the browser. */
		label: text('label').notNull().default(''),
		createdAt: integer('created_at').notNull(),
		lastUsedAt: integer('last_used_at')
	},
	(t) => [
		uniqueIndex('push_subscriptions_endpoint_unique').on(t.endpoint),
		index('push_subscriptions_user_idx').on(t.userId)
	]
);

/**
 * Personal access tokens for the public API (`/api/v1`), made in settings. Only the token's
 * SHA-256 is kept (`id` is not secret: it names the token in lists). `scope` is `read` (GET only)
 * or `write` (everything the person may do); `rooms`, when set, is a JSON array of the room ids
 * it is limited to. Revoking deletes the row.
 */
export const apiTokens = sqliteTable(
	'api_tokens',
	{
		id: text('id').primaryKey(),
		userId: text('user_id')
			.notNull()
			.references(() => users.id, { onDelete: 'cascade' }),
		name: text('name').notNull(),
		tokenHash: text('token_hash').notNull(),
		scope: text('scope', { enum: ['read', 'write'] }).notNull(),
		rooms: text('rooms'),
		createdAt: integer('created_at').notNull(),
		/** Null: never expires. */
		expiresAt: integer('expires_at'),
		lastUsedAt: integer('last_used_at')
	},
	(t) => [
		uniqueIndex('api_tokens_hash_unique').on(t.tokenHash),
		index('api_tokens_user_idx').on(t.userId)
	]
);

/**
 * A bot's incoming webhook: a secret address that posts a message into the bot's room as the bot.
 * Only the secret's SHA-256 is kept; a bot has at most one (a new one replaces it).
 */
export const incomingWebhooks = sqliteTable(
	'incoming_webhooks',
	{
		id: text('id').primaryKey(),
		botId: text('bot_id')
			.notNull()
			.references(() => users.id, { onDelete: 'cascade' }),
		roomId: text('room_id')
			.notNull()
			.references(() => rooms.id, { onDelete: 'cascade' }),
		secretHash: text('secret_hash').notNull(),
		createdBy: text('created_by'),
		createdAt: integer('created_at').notNull(),
		lastUsedAt: integer('last_used_at')
	},
	(t) => [
		uniqueIndex('incoming_webhooks_bot_unique').on(t.botId),
		index('incoming_webhooks_room_idx').on(t.roomId)
	]
);

/**
 * A bot's outgoing webhook: the room's new messages (all of them, or those that mention the bot)
 * POSTed to `url`, signed with `secret` (HMAC-SHA256, so the secret is kept as it was shown: it
 * must be usable, unlike a token, which is only compared). The realtime worker's webhook outbox
 * delivers them, counts failures in a row here, and sets `disabled_at` when it gives up; saving the
 * webhook again turns it back on.
 */
export const outgoingWebhooks = sqliteTable(
	'outgoing_webhooks',
	{
		id: text('id').primaryKey(),
		botId: text('bot_id')
			.notNull()
			.references(() => users.id, { onDelete: 'cascade' }),
		roomId: text('room_id')
			.notNull()
			.references(() => rooms.id, { onDelete: 'cascade' }),
		url: text('url').notNull(),
		events: text('events', { enum: ['messages', 'mentions'] }).notNull(),
		secret: text('secret').notNull(),
		createdBy: text('created_by'),
		createdAt: integer('created_at').notNull(),
		failures: integer('failures').notNull().default(0),
		lastError: text('last_error'),
		lastDeliveredAt: integer('last_delivered_at'),
		disabledAt: integer('disabled_at')
	},
	(t) => [
		uniqueIndex('outgoing_webhooks_bot_unique').on(t.botId),
		index('outgoing_webhooks_room_idx').on(t.roomId)
	]
);

/**
 * What someone reported: a message (its room and seq, with its text as it was when reported) or
 * a person. The room's owner and admins see the reports about their room; site admins see all.
 */
export const reports = sqliteTable(
	'reports',
	{
		id: text('id').primaryKey(),
		reporterId: text('reporter_id').references(() => users.id, { onDelete: 'set null' }),
		/** The room the reported message is in (null for a report of a person). */
		roomId: text('room_id').references(() => rooms.id, { onDelete: 'cascade' }),
		messageSeq: integer('message_seq'),
		/** The person reported: the message's sender, or the person reported directly. */
		reportedUserId: text('reported_user_id').references(() => users.id, { onDelete: 'set null' }),
		reason: text('reason', {
			enum: ['spam', 'harassment', 'hate', 'violence', 'sexual', 'self_harm', 'other']
		}).notNull(),
		details: text('details').notNull().default(''),
		/** The message's text when it was reported, so that an edit or deletion cannot hide it. */
		messageBody: text('message_body'),
		createdAt: integer('created_at').notNull(),
		status: text('status', { enum: ['open', 'resolved'] })
			.notNull()
			.default('open'),
		resolvedBy: text('resolved_by'),
		resolvedAt: integer('resolved_at'),
		/** What was done: `dismissed`, `message_deleted`, `user_suspended`… and a note. */
		resolution: text('resolution')
	},
	(t) => [
		// One report per person per thing reported: reporting it again reopens it (an upsert on these).
		uniqueIndex('reports_message_unique')
			.on(t.reporterId, t.roomId, t.messageSeq)
			.where(sql`${t.messageSeq} IS NOT NULL`),
		uniqueIndex('reports_person_unique')
			.on(t.reporterId, t.reportedUserId)
			.where(sql`${t.roomId} IS NULL`),
		index('reports_room_status_idx').on(t.roomId, t.status, t.createdAt),
		index('reports_status_idx').on(t.status, t.createdAt)
	]
);

/**
 * Every action of a site admin, and every moderation action of a room's owner or admins: who did
 * what to whom or what, where, when and why. Kept when the actor, the target or the room is
 * gone (no foreign keys): it is the record.
 */
export const auditLog = sqliteTable(
	'audit_log',
	{
		id: text('id').primaryKey(),
		actorId: text('actor_id'),
		/** As what they acted: a site admin, or a room's owner or admin. */
		actorRole: text('actor_role', { enum: ['site_admin', 'room_admin'] }).notNull(),
		/** `user.suspend`, `room.delete`, `member.ban`, `message.delete`, `report.resolve`… */
		action: text('action').notNull(),
		targetKind: text('target_kind', { enum: ['user', 'room', 'message', 'report'] }).notNull(),
		targetId: text('target_id').notNull(),
		roomId: text('room_id'),
		reason: text('reason').notNull().default(''),
		/** JSON: what else a reader needs (the seq of a message, the role given, a duration). */
		details: text('details').notNull().default('{}'),
		createdAt: integer('created_at').notNull()
	},
	(t) => [
		index('audit_log_created_idx').on(t.createdAt),
		index('audit_log_room_idx').on(t.roomId, t.createdAt),
		index('audit_log_target_idx').on(t.targetId)
	]
);

/**
 * A browser of a person's that takes part in end-to-end encrypted rooms (docs/e2ee.md): its keys
 * were made in that browser and never leave it; this is its public identity key (the MLS signature
 * key, base64) and a name the person recognises. A removed device keeps its row (`removed_at`), so
 * that every member's client can see it went and take it out of the groups it was in.
 */
export const e2eeDevices = sqliteTable(
	'e2ee_devices',
	{
		id: text('id').primaryKey(),
		userId: text('user_id')
			.notNull()
			.references(() => users.id, { onDelete: 'cascade' }),
		name: text('name').notNull(),
		identityKey: text('identity_key').notNull(),
		createdAt: integer('created_at').notNull(),
		/** Approved by another of the person's devices (by its short code), or their first one. */
		approvedBy: text('approved_by'),
		removedAt: integer('removed_at')
	},
	(t) => [index('e2ee_devices_user_idx').on(t.userId)]
);

/**
 * MLS KeyPackages a device published so that others can add it to a group while it is away. Each
 * is used once: claiming one deletes it in the same statement.
 */
export const e2eeKeyPackages = sqliteTable(
	'e2ee_key_packages',
	{
		id: text('id').primaryKey(),
		deviceId: text('device_id')
			.notNull()
			.references(() => e2eeDevices.id, { onDelete: 'cascade' }),
		/** The MLS key_package message, base64. */
		keyPackage: text('key_package').notNull(),
		createdAt: integer('created_at').notNull()
	},
	(t) => [index('e2ee_key_packages_device_idx').on(t.deviceId, t.createdAt)]
);
