// reconnect-storm: every socket drops at once and comes back with jittered backoff.
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Context, Result, Scenario, Settings } from '../context.ts';
import { log } from '../log.ts';
import { costPerDelivery, startMeter } from '../meter.ts';
import { Recorder } from '../recorder.ts';
import { drain, figures, pace, pickSenders, Session, settingsOf } from '../session.ts';
import { Histogram, round } from '../stats.ts';

const DROP_AFTER_MS = 3000;
const CATCH_UP_LIMIT_MS = 60_000;

async function run(ctx: Context, s: Settings): Promise<Result> {
	const session = new Session(ctx, 'reconnect-storm', ctx.accounts.slice(0, s.clients));
	try {
		const { connected, failed } = await session.connect(session.clients, ctx.signal);
		session.startHeartbeat();
		const senders = pickSenders(connected, s.senders, s.rate);
		const sendMs = Math.max(s.duration * 1000, DROP_AFTER_MS + 5000);
		const recorder = new Recorder(Math.ceil((s.rate * sendMs) / 1000) + 1, s.clients, 90);
		session.track(recorder, connected);
		session.hub.resetCounters();
		const meter = await startMeter(ctx);
		log(`reconnect-storm: ${connected.length} sockets drop after ${DROP_AFTER_MS / 1000} s`);
		const sending = pace(recorder, senders, s.rate, sendMs, ctx.signal);

		await sleep(DROP_AFTER_MS, undefined, { signal: ctx.signal });
		const dropAt = performance.now();
		for (const client of connected) {
			client.keepConnected(dropAt + CATCH_UP_LIMIT_MS);
			client.caughtUpAt = 0;
			client.drop();
		}
		// Caught up: back, welcomed, and holding every message up to the room's seq at its welcome.
		while (performance.now() - dropAt < CATCH_UP_LIMIT_MS) {
			if (connected.every((c) => c.welcomed && c.caughtUpAt > dropAt)) break;
			await sleep(20, undefined, { signal: ctx.signal });
		}
		const back = connected.filter((c) => c.welcomed && c.caughtUpAt > dropAt);
		const catchUpMs = Math.max(0, ...back.map((c) => c.caughtUpAt - dropAt));
		const reconnectTimes = new Histogram();
		for (const c of back) reconnectTimes.add(c.welcomedAt - dropAt);
		log(
			`reconnect-storm: ${back.length}/${connected.length} back and caught up in ${Math.round(catchUpMs)} ms`
		);
		await sending;
		const drained = await drain(recorder, connected, ctx.signal);
		const usage = await meter();
		// Gaps: seqs a client that is back in the room lacks below the room's last seq. Clients still
		// away are counted as `notBack` instead: their hello will ask for what they miss.
		const roomSeq = session.hub.roomSeq;
		let gaps = 0;
		let notBack = 0;
		for (const c of connected) {
			if (!c.welcomed) {
				notBack++;
				continue;
			}
			gaps += Math.max(0, roomSeq - c.lastSeq - c.aheadCount);
		}
		return {
			scenario: 'reconnect-storm',
			...figures(recorder, connected, session.hub),
			...settingsOf({ ...s, duration: sendMs / 1000 }),
			catchUpMs: back.length === connected.length ? Math.round(catchUpMs) : null,
			caughtUp: back.length,
			reconnectP50: round(reconnectTimes.quantile(0.5)),
			reconnectP99: round(reconnectTimes.quantile(0.99)),
			gaps,
			notBack,
			duplicatesBeforeWelcome: session.hub.duplicatesBeforeWelcome,
			truncatedBacklogs: session.hub.truncatedBacklogs,
			backlogDelivered: recorder.backlogDelivered,
			reconnectFailures: session.hub.upgradeFailures.size
				? Object.fromEntries(session.hub.upgradeFailures)
				: undefined,
			drained,
			connectFailures: failed,
			...usage,
			serverUsPerDelivery: costPerDelivery(usage, recorder.delivered)
		};
	} finally {
		await session.close();
	}
}

export const reconnectStorm: Scenario = {
	defaults: { clients: 1000, senders: 10, rate: 10, duration: 12 },
	accounts: (s) => s.clients,
	run
};
