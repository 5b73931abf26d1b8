// One bot's outgoing webhook: a queue of events in the object's own storage, delivered one at a
// time, oldest first, by its alarm. A receiver that fails (no answer within the timeout, or
// anything but a 2xx) holds the queue back and the retry waits longer each time; after
// WEBHOOK_MAX_FAILURES in a row the webhook is turned off, the queue dropped, and the room's owner and
// admins find a notice in their inbox. The webhook's settings and its failure count live in D1
// (`outgoing_webhooks`), where the room's details page reads them and where saving the webhook
// again turns it back on.
//
// Delivery is at least once: an answer lost after the receiver acted brings the same event again,
// with the same `Parley-Event-Id`. Handing events to the outbox is at most once: the room's flush
// enqueues them after D1 has the messages, and an outbox that cannot be reached then is logged,
// not retried (a room's flush must not wait on a bot's receiver).
import { DurableObject } from 'cloudflare:workers';
import { deliveryUrl, outboundUrlProblem } from '../../../shared/outbound-url';
import {
	DELIVERY_TIMEOUT_SECONDS,
	WEBHOOK_EVENT_ID_HEADER,
	WEBHOOK_MAX_FAILURES,
	WEBHOOK_RETRY_BASE_MS,
	WEBHOOK_RETRY_MAX_MS,
	WEBHOOK_ID_HEADER,
	WEBHOOK_SIGNATURE_HEADER,
	signWebhook
} from '../../../shared/webhook-event';
import { roomStub } from '../../../shared/objects';
import { tellInboxes } from './inbox-items';

/** Events waiting at most; past it the oldest are dropped (a receiver this far behind is failing). */
export const MAX_QUEUED_EVENTS = 500;
/** One alarm delivers at most this many, then sets the next alarm at once (other work may run). */
const DELIVERIES_PER_RUN = 50;

export type QueuedEvent = { id: string; body: string };

/** What delivering needs. */
export type OutboxEnv = {
	DB: D1Database;
	HUBS: Env['HUBS'];
	ROOMS: Env['ROOMS'];
	APP_ENV?: unknown;
};

/** What one run of the queue did, for tests and logs. */
export type DeliveryRun =
	| { state: 'idle' | 'dropped'; delivered: number }
	| { state: 'retrying'; delivered: number; failures: number; retryAt: number; error: string }
	| { state: 'disabled'; delivered: number; error: string };

type HookRow = { url: string; secret: string; room_id: string; bot_id: string };

export function retryDelay(failures: number): number {
	return Math.min(WEBHOOK_RETRY_MAX_MS, WEBHOOK_RETRY_BASE_MS * 2 ** Math.min(failures - 1, 20));
}

export class WebhookOutbox extends DurableObject<Env> {
	#sql: SqlStorage;
	/** The environment deliveries run in: the object's own (tests swap in development's). */
	deliveryEnv: OutboxEnv;

	constructor(ctx: DurableObjectState, env: Env) {
		super(ctx, env);
		this.deliveryEnv = env;
		this.#sql = ctx.storage.sql;
		this.#sql.exec(`CREATE TABLE IF NOT EXISTS events (
			n INTEGER PRIMARY KEY AUTOINCREMENT,
			id TEXT NOT NULL UNIQUE,
			body TEXT NOT NULL
		)`);
		this.#sql.exec('CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)');
	}

	/**
	 * Queues events for the webhook `hookId` (this object's name), ignoring any already queued (a
	 * retried flush), and starts delivering unless a delivery or a retry is already set.
	 */
	async enqueue(hookId: string, events: QueuedEvent[]): Promise<void> {
		this.#sql.exec('INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)', 'hook_id', hookId);
		for (const event of events) {
			this.#sql.exec('INSERT OR IGNORE INTO events (id, body) VALUES (?, ?)', event.id, event.body);
		}
		const dropped = this.#sql.exec(
			'DELETE FROM events WHERE n <= (SELECT MAX(n) FROM events) - ?',
			MAX_QUEUED_EVENTS
		).rowsWritten;
		if (dropped > 0) console.warn(`webhook ${hookId}: queue full, dropped ${dropped} oldest`);
		if ((await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(Date.now());
	}

	/** How many events wait (for tests). */
	async queued(): Promise<number> {
		return this.#sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM events').one().n;
	}

	async alarm(): Promise<void> {
		const run = await this.deliver();
		if (run.state === 'retrying') {
			console.warn(`webhook delivery failed (${run.failures} in a row): ${run.error}`);
		}
	}

	/** The alarm's work: delivers what is queued, oldest first, until it is done or one fails. */
	async deliver(): Promise<DeliveryRun> {
		const env = this.deliveryEnv;
		const hookId = this.#hookId();
		const hook =
			hookId &&
			(await env.DB.prepare(
				`SELECT url, secret, room_id, bot_id FROM outgoing_webhooks
				  WHERE id = ? AND disabled_at IS NULL`
			)
				.bind(hookId)
				.first<HookRow>());
		if (!hookId || !hook) {
			// Deleted, replaced or turned off: what waited for it goes with it.
			this.#sql.exec('DELETE FROM events');
			return { state: 'dropped', delivered: 0 };
		}
		const production = env.APP_ENV !== 'development';
		let delivered = 0;
		for (let i = 0; i < DELIVERIES_PER_RUN; i++) {
			const head = this.#sql
				.exec<{ n: number; id: string; body: string }>(
					'SELECT n, id, body FROM events ORDER BY n LIMIT 1'
				)
				.toArray()[0];
			if (!head) break;
			const problem = outboundUrlProblem(hook.url, production);
			const error = problem ? `The URL ${problem}` : await post(hookId, hook, head, production);
			if (error === null) {
				this.#sql.exec('DELETE FROM events WHERE n = ?', head.n);
				delivered++;
				continue;
			}
			if (delivered > 0) await markDelivered(env.DB, hookId);
			return this.#failed(env, hookId, hook, error, delivered, problem !== null);
		}
		if (delivered > 0) await markDelivered(env.DB, hookId);
		if ((await this.queued()) > 0) await this.ctx.storage.setAlarm(Date.now());
		return { state: 'idle', delivered };
	}

	async #failed(
		env: OutboxEnv,
		hookId: string,
		hook: HookRow,
		error: string,
		delivered: number,
		permanent: boolean
	): Promise<DeliveryRun> {
		// Counted in D1, relative to what is there: saving the webhook meanwhile (a reset) wins.
		const counted = await env.DB.prepare(
			`UPDATE outgoing_webhooks SET failures = failures + 1, last_error = ?
			  WHERE id = ? AND disabled_at IS NULL RETURNING failures`
		)
			.bind(error, hookId)
			.first<{ failures: number }>();
		if (!counted) {
			this.#sql.exec('DELETE FROM events');
			return { state: 'dropped', delivered };
		}
		if (!permanent && counted.failures < WEBHOOK_MAX_FAILURES) {
			// From now, not from the run's start: a delivery that timed out took most of a retry.
			const retryAt = Date.now() + retryDelay(counted.failures);
			await this.ctx.storage.setAlarm(retryAt);
			return { state: 'retrying', delivered, failures: counted.failures, retryAt, error };
		}
		this.#sql.exec('DELETE FROM events');
		await turnOff(env, hookId, hook, error);
		return { state: 'disabled', delivered, error };
	}

	#hookId(): string | null {
		return (
			this.#sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = 'hook_id'").toArray()[0]
				?.value ?? null
		);
	}
}

/** POSTs one event; answers null when the receiver took it, or what went wrong, in words. */
async function post(
	hookId: string,
	hook: HookRow,
	event: QueuedEvent,
	production: boolean
): Promise<string | null> {
	try {
		const response = await fetch(deliveryUrl(hook.url, production), {
			method: 'POST',
			headers: {
				'Content-Type': 'application/json',
				'User-Agent': 'Parley-Webhooks/1',
				[WEBHOOK_ID_HEADER]: hookId,
				[WEBHOOK_EVENT_ID_HEADER]: event.id,
				[WEBHOOK_SIGNATURE_HEADER]: await signWebhook(
					hook.secret,
					Math.floor(Date.now() / 1000),
					event.body
				)
			},
			body: event.body,
			// A redirect could point anywhere, the local network included: it is a failure here.
			redirect: 'manual',
			signal: AbortSignal.timeout(DELIVERY_TIMEOUT_SECONDS * 1000)
		});
		await response.body?.cancel();
		if (response.status >= 200 && response.status < 300) return null;
		if (response.status >= 300 && response.status < 400) {
			return `The receiver answered ${response.status} (redirects are not followed).`;
		}
		return `The receiver answered ${response.status}.`;
	} catch (err) {
		if (err instanceof DOMException && err.name === 'TimeoutError') {
			return `The receiver did not answer within ${DELIVERY_TIMEOUT_SECONDS} seconds.`;
		}
		return `The receiver could not be reached (${err instanceof Error ? err.message : String(err)}).`;
	}
}

async function markDelivered(db: D1Database, hookId: string): Promise<void> {
	await db
		.prepare('UPDATE outgoing_webhooks SET failures = 0, last_delivered_at = ? WHERE id = ?')
		.bind(Date.now(), hookId)
		.run();
}

/**
 * Turns the webhook off and tells the room's owner and admins: an inbox item each (one per
 * webhook, brought back unread if it happens again), and their open tabs' count. Tells the room.
 */
async function turnOff(
	env: OutboxEnv,
	hookId: string,
	hook: HookRow,
	error: string
): Promise<void> {
	const now = Date.now();
	const [, told] = await env.DB.batch<{ user_id: string }>([
		env.DB.prepare(
			'UPDATE outgoing_webhooks SET disabled_at = ?, last_error = ? WHERE id = ?'
		).bind(now, error, hookId),
		env.DB.prepare(
			`INSERT INTO notifications (id, user_id, kind, key, room_id, actor_id, preview, count,
			                            created_at, updated_at, read_at)
			 SELECT lower(hex(randomblob(12))), m.user_id, 'webhook_disabled', ?1, ?2, ?3, ?4, 1,
			        ?5, ?5, NULL
			   FROM memberships m
			  WHERE m.room_id = ?2 AND m.role IN ('owner', 'admin')
			 ON CONFLICT (user_id, key) DO UPDATE SET
			        preview = excluded.preview, updated_at = excluded.updated_at, read_at = NULL
			 RETURNING user_id`
		).bind(`webhook_disabled:${hookId}`, hook.room_id, hook.bot_id, error, now)
	]);
	const userIds = (told?.results ?? []).map((row) => row.user_id);
	// The room stops handing it events now rather than when its copy of its webhooks expires.
	await Promise.all([
		userIds.length > 0 ? tellInboxes(env.DB, env.HUBS, userIds) : null,
		roomStub(env.ROOMS, hook.room_id)
			.audienceChanged()
			.catch((err: unknown) => console.warn('room not told of a webhook turned off', err))
	]);
}
