import { DurableObject } from 'cloudflare:workers';
import { CloseCode, MAX_HUB_SOCKETS_PER_USER, PING, PONG } from '../../../shared/protocol';
import type { HubEvent, HubFrame } from '../../../shared/protocol/hub';
import { readUserIdentity, sessionTag, sessionTags } from '../../../shared/identity';
import { drizzle } from 'drizzle-orm/d1';
import { countIncomingRequests, listFriendIds } from '../../../shared/db/friends';
import { countUnreadNotifications } from '../../../shared/db/notifications';
import { hubStub } from '../../../shared/objects';
import { readMeta, writeMeta } from './meta';
import { PushBursts } from './push-bursts';
import { pushToUser, type PushEnv } from './web-push';

/**
 * A reload closes the last socket and opens a new one a moment later: friends should not see the
 * user flicker offline, so "offline" is announced only after this grace period without sockets.
 */
export const OFFLINE_GRACE_MS = 5_000;

type ContactRow = { user_id: string; online: number };

/** What a person turned away at the hub's socket cap reads (the close reason, at most 123 bytes). */
const TOO_MANY_CONNECTIONS = 'Too many open tabs; close some tabs.';

/**
 * One per user: the sockets of the user's open tabs, and what happens across all their
 * conversations and contacts (unread signals from rooms, friend requests, membership changes,
 * friends' presence).
 *
 * Presence is shared with accepted friends only. A user is online while any of their tabs holds a
 * hub socket; the two transitions (first socket, last socket gone plus a grace period) are the
 * only moments the hub talks to its friends' hubs, so presence costs O(friends) per transition,
 * never per message. Blocking ends the friendship and unlinks both hubs, so a blocked user stops
 * seeing the blocker's presence at once.
 *
 * Threat model: reachable only through the app worker's binding. The upgrade's identity header was
 * set by the app's door after it checked the session; RPC callers are the app and the rooms.
 */
export class UserHub extends DurableObject<Env> {
	/** D1, for the friend graph and the online flag. A seam for tests, which hold writes back. */
	database: D1Database;
	/** What Web Push sends with. A seam for tests, which reach their push service on loopback. */
	pushEnv: PushEnv;
	#storage: SqlStorage;
	#tablesReady = false;
	/** Pushes for a person with no tab open, one per room per burst; made on the first. */
	#bursts: PushBursts | null = null;

	constructor(ctx: DurableObjectState, env: Env) {
		super(ctx, env);
		this.database = env.DB;
		this.pushEnv = env;
		this.#storage = ctx.storage.sql;
		ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(PING, PONG));
	}

	/**
	 * The hub's storage, its tables made on first use: the hub of a user who never opens a tab is
	 * only ever told of rooms, and that must not create a database per member of a large room.
	 */
	get #sql(): SqlStorage {
		if (!this.#tablesReady) {
			this.#storage
				.exec(`CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
				CREATE TABLE IF NOT EXISTS contacts (user_id TEXT PRIMARY KEY, online INTEGER NOT NULL);`);
			this.#tablesReady = true;
		}
		return this.#storage;
	}

	async fetch(request: Request): Promise<Response> {
		const identity = readUserIdentity(request.headers);
		if (!identity) return new Response('Missing identity', { status: 400 });
		if (request.headers.get('Upgrade')?.toLowerCase() !== 'websocket') {
			return new Response('Expected a WebSocket upgrade', { status: 426 });
		}
		const userId = this.#rememberUserId(identity.userId);
		if (!this.#announcedOnline()) await this.#comeOnline(userId);

		const { 0: client, 1: server } = new WebSocketPair();
		// Every event goes to every tab: without a cap, one person's thousands of sockets would make
		// each friend's presence change and each room signal cost thousands of sends. Sockets closing
		// (signed out, turned away) do not count. Counted and accepted with no await in between, so
		// that upgrades arriving together cannot all pass.
		const open = this.ctx.getWebSockets().filter((ws) => ws.readyState === WebSocket.OPEN);
		if (open.length >= MAX_HUB_SOCKETS_PER_USER) {
			// Accepted only to be closed: a browser cannot read the status of a refused upgrade.
			this.ctx.acceptWebSocket(server);
			closeQuietly(server, CloseCode.TooManyConnections, TOO_MANY_CONNECTIONS);
			return new Response(null, { status: 101, webSocket: client });
		}
		this.ctx.acceptWebSocket(server, sessionTags(identity));
		const welcome: HubFrame = {
			type: 'welcome',
			userId,
			incomingRequests: await countIncomingRequests(drizzle(this.database), userId),
			inboxUnread: await countUnreadNotifications(drizzle(this.database), userId),
			presence: this.#contacts().map((c) => ({ userId: c.user_id, online: c.online === 1 }))
		};
		server.send(JSON.stringify(welcome));
		return new Response(null, { status: 101, webSocket: client });
	}

	async webSocketMessage(): Promise<void> {
		// Tabs only send heartbeats, which the runtime answers; anything else is ignored.
	}

	async webSocketClose(ws: WebSocket, code: number): Promise<void> {
		closeQuietly(ws, code === 1005 || code === 1006 ? 1000 : code);
		this.#scheduleOfflineCheck(ws);
	}

	async webSocketError(ws: WebSocket): Promise<void> {
		closeQuietly(ws, 1011);
		this.#scheduleOfflineCheck(ws);
	}

	async alarm(): Promise<void> {
		const userId = this.#meta('user_id');
		if (!userId || this.ctx.getWebSockets().length > 0 || !this.#announcedOnline()) return;
		// Our own flag first, before anything awaits: a tab that opens from here on comes online
		// again (and writes D1 itself). If D1 cannot be told, it says online a while too long,
		// which costs rooms a call to a hub with nobody to tell, never a lost signal.
		this.#setMeta('online', '0');
		await this.#publishOnline(userId, false);
		// A tab that opened while that write was on its way came online again, and its own write
		// may have been overtaken by ours: say online once more, and tell the friends nothing.
		if (this.#announcedOnline() || this.ctx.getWebSockets().length > 0) {
			await this.#publishOnline(userId, true);
			return;
		}
		const contacts = this.#contacts();
		await Promise.allSettled(
			contacts.map((c) => this.#hub(c.user_id).contactOnline(c.user_id, userId, false))
		);
	}

	// ---- RPC for the app worker and the rooms ----

	/**
	 * Sends an event to every open tab of the user. With none open, a room's news that may alert
	 * goes to the user's devices by Web Push instead (the open tab shows its own notification);
	 * anything else is dropped. Friend requests are not pushed: the inbox has them.
	 */
	async notify(userId: string, event: HubEvent): Promise<number> {
		// No tab to tell: touch no storage. Direct messages and mentions reach the hub of every
		// offline member, and a hub marked online a moment too long hears a room's news too. The
		// push path reads D1 only (the person's subscriptions), and keeps its bursts in memory.
		if (this.ctx.getWebSockets().length === 0) {
			if (event.type === 'room' && event.alert) this.#pushBursts(userId).add(event);
			return 0;
		}
		this.#rememberUserId(userId);
		return this.#push(event);
	}

	/**
	 * A friend's hub says they came online or went offline. Answers whether this user is online, so
	 * that one call both tells and asks.
	 */
	async contactOnline(userId: string, contactId: string, online: boolean): Promise<boolean> {
		this.#rememberUserId(userId);
		this.#sql.exec(
			`INSERT INTO contacts (user_id, online) VALUES (?, ?)
			 ON CONFLICT(user_id) DO UPDATE SET online = excluded.online`,
			contactId,
			online ? 1 : 0
		);
		this.#push({ type: 'presence', userId: contactId, online });
		return this.#announcedOnline();
	}

	/** Two people became friends: each learns the other's presence now. */
	async linkContact(userId: string, contactId: string): Promise<void> {
		this.#rememberUserId(userId);
		const theirs = await this.#hub(contactId).contactOnline(
			contactId,
			userId,
			this.#announcedOnline()
		);
		await this.contactOnline(userId, contactId, theirs);
	}

	/** Two people are no longer friends (unfriended or blocked): neither sees the other's presence. */
	async unlinkContact(userId: string, contactId: string): Promise<void> {
		this.#rememberUserId(userId);
		this.#forget(contactId);
		await this.#hub(contactId).contactGone(contactId, userId);
	}

	async contactGone(userId: string, contactId: string): Promise<void> {
		this.#rememberUserId(userId);
		this.#forget(contactId);
	}

	/** Sessions were signed out: their tabs' sockets close now, the others stay. */
	async endSessions(sessionIds: string[]): Promise<number> {
		const closing = new Set(sessionIds.flatMap((id) => this.ctx.getWebSockets(sessionTag(id))));
		for (const socket of closing) closeQuietly(socket, CloseCode.SignedOut);
		const open = this.ctx.getWebSockets().filter((s) => !closing.has(s));
		if (closing.size > 0 && open.length === 0) {
			await this.ctx.storage.setAlarm(Date.now() + OFFLINE_GRACE_MS);
		}
		return closing.size;
	}

	/** Whether the user counts as online (a tab is open, or closed less than the grace ago). */
	async isOnline(): Promise<boolean> {
		return this.#announcedOnline();
	}

	// ---- presence ----

	async #comeOnline(userId: string): Promise<void> {
		// Our flag first, so that a second tab opening meanwhile does not come online again; D1
		// before this tab's socket is accepted, so a room that reads "offline" has no tab to miss.
		this.#setMeta('online', '1');
		try {
			await this.#publishOnline(userId, true);
		} catch (err) {
			// The upgrade fails and the tab retries: the flag must not claim what D1 does not say.
			this.#setMeta('online', '0');
			throw err;
		}
		const friends = await listFriendIds(drizzle(this.database), userId);
		// Rebuilt from D1 on every transition, so a hub that slept through changes starts right.
		const answers = await Promise.allSettled(
			friends.map((id) => this.#hub(id).contactOnline(id, userId, true))
		);
		this.#sql.exec('DELETE FROM contacts');
		friends.forEach((id, i) => {
			const answer = answers[i];
			const online = answer?.status === 'fulfilled' && answer.value;
			this.#sql.exec('INSERT INTO contacts (user_id, online) VALUES (?, ?)', id, online ? 1 : 0);
		});
	}

	#scheduleOfflineCheck(closing: WebSocket): void {
		const others = this.ctx.getWebSockets().filter((s) => s !== closing);
		if (others.length > 0) return;
		this.ctx.waitUntil(this.ctx.storage.setAlarm(Date.now() + OFFLINE_GRACE_MS));
	}

	#forget(contactId: string): void {
		this.#sql.exec('DELETE FROM contacts WHERE user_id = ?', contactId);
		this.#push({ type: 'presence', userId: contactId, online: false });
	}

	/** Where the rooms look before calling: only hubs marked online have a tab to tell. */
	async #publishOnline(userId: string, online: boolean): Promise<void> {
		await this.database
			.prepare('UPDATE users SET hub_online = ? WHERE id = ?')
			.bind(online ? 1 : 0, userId)
			.run();
	}

	// ---- helpers ----

	#pushBursts(userId: string): PushBursts {
		this.#bursts ??= new PushBursts((payload) => pushToUser(this.pushEnv, userId, payload));
		return this.#bursts;
	}

	#push(frame: HubFrame): number {
		const data = JSON.stringify(frame);
		let sent = 0;
		for (const socket of this.ctx.getWebSockets()) {
			try {
				socket.send(data);
				sent++;
			} catch {
				// A socket that is closing is tidied up by webSocketClose.
			}
		}
		return sent;
	}

	#contacts(): ContactRow[] {
		return this.#sql
			.exec<ContactRow>('SELECT user_id, online FROM contacts ORDER BY user_id')
			.toArray();
	}

	#announcedOnline(): boolean {
		return this.#meta('online') === '1';
	}

	#hub(userId: string) {
		return hubStub(this.env.HUBS, userId);
	}

	#rememberUserId(userId: string): string {
		const known = this.#meta('user_id');
		if (known === userId) return userId;
		if (known !== null) throw new Error('user hub addressed with a different user id');
		this.#setMeta('user_id', userId);
		return userId;
	}

	#meta(key: string): string | null {
		return readMeta(this.#sql, key);
	}

	#setMeta(key: string, value: string): void {
		writeMeta(this.#sql, key, value);
	}
}

function closeQuietly(ws: WebSocket, code: number, reason = 'closing'): void {
	try {
		ws.close(code, reason);
	} catch {
		// Already closed.
	}
}
