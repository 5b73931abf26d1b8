// search-freshness: how soon a message can be found after the room acknowledged it, on the
// generated history (so its index entry goes into a full index). One member sends messages one at
// a time, each with a word no other message has; from the acknowledgement the room's members ask
// `/api/search?q=<word>&room=<room>` every POLL_MS until it is found. The flush waits 250 ms
// before it copies a burst to D1, where the triggers index it; the figure is that wait plus the
// flush plus the search. The polls rotate over the room's members: the search limit is per person.
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type WebSocket from 'ws';
import { PING } from '../../../shared/protocol/heartbeat.ts';
import { framesOf, openRoomSocket, type Frame } from '../../lib/parley-client.ts';
import type { Context, Result, Scenario, Settings } from '../context.ts';
import { log } from '../log.ts';
import { Histogram } from '../stats.ts';
import { latency, timedGet } from '../timed-get.ts';
import { Random } from '../vocabulary.ts';

const POLL_MS = 25;
const GIVE_UP_MS = 10_000;
const MEMBERS = 20;

function waitFor(ws: WebSocket, match: (frame: Frame) => boolean, timeoutMs = 10_000) {
	return new Promise<Frame>((resolve, reject) => {
		const timer = setTimeout(() => {
			ws.off('message', onMessage);
			reject(new Error('search-freshness: no answer from the room'));
		}, timeoutMs);
		const onMessage = (data: WebSocket.RawData) => {
			const frame = framesOf(data).find(match);
			if (!frame) return;
			clearTimeout(timer);
			ws.off('message', onMessage);
			resolve(frame);
		};
		ws.on('message', onMessage);
	});
}

export const searchFreshness: Scenario = {
	defaults: { clients: MEMBERS, senders: 1, rate: 0, duration: 0, count: 50 },
	accounts: () => MEMBERS,
	history: true,
	async run(ctx: Context, s: Settings): Promise<Result> {
		const roomId = ctx.rooms['search-freshness'];
		if (!roomId) throw new Error('no room seeded for search-freshness');
		const count = s.count ?? 50;
		const members = ctx.accounts.slice(0, MEMBERS);
		const sender = members[0]!;
		const tag = new Random(`freshness ${Date.now()}`).id(6).replace(/[0-9]/g, 'q');
		const ws = await openRoomSocket(ctx.base, sender, roomId);
		const found = new Histogram();
		const acks = new Histogram();
		let missed = 0;
		let polls = 0;
		const errors = new Map<number, number>();
		const refused = new Map<string, number>();
		// The app's heartbeat: a socket that stays silent is closed by the room.
		const heartbeat = setInterval(() => ws.send(PING), 10_000);
		try {
			const welcome = waitFor(ws, (f) => f.type === 'welcome');
			ws.send(JSON.stringify({ type: 'hello', lastSeq: 0 }));
			await welcome;
			log(
				`search-freshness: ${count} messages, each searched for every ${POLL_MS} ms from its ack`
			);
			for (let n = 0; n < count; n++) {
				ctx.signal.throwIfAborted();
				const word = `fresh${tag}n${n}`;
				const clientId = `freshness-${tag}-${n}`;
				const ack = waitFor(
					ws,
					(f) => (f.type === 'ack' || f.type === 'error') && f.clientId === clientId
				);
				const sent = performance.now();
				ws.send(JSON.stringify({ type: 'send', clientId, body: `Can you find ${word} already?` }));
				const answer = await ack;
				if (answer.type === 'error') {
					refused.set(String(answer.code), (refused.get(String(answer.code)) ?? 0) + 1);
					await sleep(1000, undefined, { signal: ctx.signal });
					continue;
				}
				const ackedAt = performance.now();
				acks.add(ackedAt - sent);
				let seen = false;
				while (!seen && performance.now() - ackedAt < GIVE_UP_MS) {
					const asker = members[polls++ % members.length]!;
					const answer = await timedGet(
						ctx.base,
						`/api/search?q=${word}&room=${roomId}`,
						asker,
						ctx.signal
					);
					const items = (answer.body as { messages?: { items?: unknown[] } } | null)?.messages
						?.items;
					if (answer.status !== 200)
						errors.set(answer.status, (errors.get(answer.status) ?? 0) + 1);
					if (Array.isArray(items) && items.length > 0) {
						found.add(performance.now() - ackedAt);
						seen = true;
					} else {
						await sleep(POLL_MS, undefined, { signal: ctx.signal });
					}
				}
				if (!seen) missed++;
				// A gap between messages, so that each one's flush is its own.
				await sleep(300, undefined, { signal: ctx.signal });
			}
		} finally {
			clearInterval(heartbeat);
			ws.close();
		}
		return {
			scenario: 'search-freshness',
			messages: count,
			ackToFound: latency(found),
			pollMs: POLL_MS,
			ack: latency(acks),
			missed,
			polls,
			errors: Object.fromEntries(errors),
			refusedSends: Object.fromEntries(refused),
			flushDelayMs: 250,
			historyMessages: ctx.history?.counts.messages ?? 0
		};
	}
};
