// steady: everyone connected, a constant rate, in a room of a thousand.
import type { Context, Result, Scenario, Settings } from '../context.ts';
import { log } from '../log.ts';
import { costPerDelivery, startMeter } from '../meter.ts';
import { Recorder } from '../recorder.ts';
import { drain, figures, pace, pickSenders, Session, settingsOf } from '../session.ts';
import { round } from '../stats.ts';

/** Everyone connected, a constant rate: steady, and baseline at a smaller size. */
export async function constantRate(name: string, ctx: Context, s: Settings): Promise<Result> {
	const session = new Session(ctx, name, ctx.accounts.slice(0, s.clients));
	try {
		const { connected, failed, ms } = await session.connect(session.clients, ctx.signal);
		session.startHeartbeat();
		const senders = pickSenders(connected, s.senders, s.rate);
		const warmupMaxMs = await session.warmUp(senders[0]!, connected, ctx.signal);
		const recorder = new Recorder(Math.ceil(s.rate * s.duration) + 1, s.clients, s.duration + 30);
		session.track(recorder, connected);
		session.hub.resetCounters();
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

export const steady: Scenario = {
	defaults: { clients: 1000, senders: 10, rate: 10, duration: 20 },
	accounts: (s) => s.clients,
	run: (ctx, s) => constantRate('steady', ctx, s)
};
