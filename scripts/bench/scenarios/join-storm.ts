// join-storm: everyone joins within a few seconds while messages flow.
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { BenchClient } from '../client.ts';
import type { Context, Result, Scenario, Settings } from '../context.ts';
import { log } from '../log.ts';
import { costPerDelivery, startMeter } from '../meter.ts';
import { Recorder } from '../recorder.ts';
import { drain, figures, pace, Session, settingsOf } from '../session.ts';
import { Histogram, round } from '../stats.ts';

const JOIN_WINDOW_MS = 5000;
const JOIN_START_MS = 1000;

async function run(ctx: Context, s: Settings): Promise<Result> {
	// The senders are already in the room; `clients` more people join during the storm.
	const all = ctx.accounts.slice(0, s.clients + s.senders);
	const session = new Session(ctx, 'join-storm', all);
	const senderClients = session.clients.slice(s.clients);
	const joiners = session.clients.slice(0, s.clients);
	try {
		const { connected: senders } = await session.connect(senderClients, ctx.signal);
		session.startHeartbeat();
		const warmupMaxMs = await session.warmUp(senders[0]!, senders, ctx.signal);
		const sendMs = Math.max(s.duration * 1000, JOIN_START_MS + JOIN_WINDOW_MS + 2000);
		const recorder = new Recorder(Math.ceil((s.rate * sendMs) / 1000) + 1, all.length, 60);
		session.track(recorder, senders);
		session.hub.resetCounters();
		const meter = await startMeter(ctx);
		log(`join-storm: ${joiners.length} joins within ${JOIN_WINDOW_MS / 1000} s, ${s.rate} msg/s`);
		const sending = pace(recorder, senders, s.rate, sendMs, ctx.signal);

		const joinTimes = new Histogram();
		const stormStart = performance.now() + JOIN_START_MS;
		const deadline = stormStart + 60_000;
		let lastWelcome = 0;
		const joined: BenchClient[] = [];
		const joining = joiners.map(async (client, i) => {
			const at = stormStart + (i * JOIN_WINDOW_MS) / joiners.length;
			await sleep(Math.max(0, at - performance.now()), undefined, { signal: ctx.signal });
			// As a browser that has just loaded the page: history up to now, then the socket.
			client.resetTo(session.hub.roomSeq);
			if (!(await client.connectWithRetry(deadline))) return;
			joinTimes.add(client.welcomedAt - at);
			lastWelcome = Math.max(lastWelcome, client.welcomedAt);
			joined.push(client);
		});
		await Promise.all([sending, ...joining]);
		const participants = [...senders, ...joined];
		const drained = await drain(recorder, participants, ctx.signal);
		const usage = await meter();
		return {
			scenario: 'join-storm',
			...figures(recorder, participants, session.hub),
			...settingsOf({ ...s, duration: sendMs / 1000 }),
			joined: joined.length,
			joinFailures: joiners.length - joined.length,
			joinP50: round(joinTimes.quantile(0.5)),
			joinP99: round(joinTimes.quantile(0.99)),
			joinMax: round(joinTimes.max),
			joinSpanMs: Math.round(lastWelcome - stormStart),
			backlogDelivered: recorder.backlogDelivered,
			duplicatesBeforeWelcome: session.hub.duplicatesBeforeWelcome,
			drained,
			warmupMaxMs: round(warmupMaxMs),
			...usage,
			serverUsPerDelivery: costPerDelivery(usage, recorder.delivered)
		};
	} finally {
		await session.close();
	}
}

export const joinStorm: Scenario = {
	defaults: { clients: 1000, senders: 10, rate: 10, duration: 10 },
	accounts: (s) => s.clients + s.senders,
	run
};
