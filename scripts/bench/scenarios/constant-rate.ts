// baseline and steady: everyone connected, a constant rate.
import type { Context, Result, Scenario, Settings } from '../context.ts';
import { log } from '../log.ts';
import {
	costPerDelivery,
	drain,
	figures,
	pace,
	settingsOf,
	startMeter,
	warmUp
} from '../measure.ts';
import { Recorder } from '../recorder.ts';
import { pickSenders, Session } from '../session.ts';
import { round } from '../stats.ts';

async function constantRate(name: string, ctx: Context, s: Settings): Promise<Result> {
	const session = new Session(ctx, name, ctx.accounts.slice(0, s.clients));
	try {
		const { connected, failed, ms } = await session.connect(session.clients, ctx.signal);
		session.startHeartbeat();
		const senders = pickSenders(connected, s.senders, s.rate);
		const warmupMaxMs = await warmUp(session, senders[0]!, connected, ctx.signal);
		const recorder = new Recorder(Math.ceil(s.rate * s.duration) + 1, s.clients, s.duration + 30);
		session.hub.recorder = recorder;
		session.hub.resetCounters();
		for (const client of connected) client.baseSeq = client.lastSeq;
		const meter = await startMeter(ctx);
		log(`${name}: ${s.rate} msg/s from ${senders.length} senders for ${s.duration} s`);
		await pace(recorder, senders, s.rate, s.duration * 1000, ctx.signal);
		const drained = await drain(recorder, connected, ctx.signal);
		const usage = await meter();
		return {
			scenario: name,
			...figures(recorder, connected, session.hub),
			...settingsOf(s),
			drained,
			warmupMaxMs: round(warmupMaxMs),
			connectFailures: failed,
			connectAllMs: Math.round(ms),
			...usage,
			serverUsPerDelivery: costPerDelivery(usage, recorder.delivered)
		};
	} finally {
		await session.close();
	}
}

export const baseline: Scenario = {
	defaults: { clients: 200, senders: 20, rate: 20, duration: 10 },
	accounts: (s) => s.clients,
	run: (ctx, s) => constantRate('baseline', ctx, s)
};

export const steady: Scenario = {
	defaults: { clients: 1000, senders: 10, rate: 10, duration: 20 },
	accounts: (s) => s.clients,
	run: (ctx, s) => constantRate('steady', ctx, s)
};
