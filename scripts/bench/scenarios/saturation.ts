// saturation: raise the rate until deliveries per second stop growing.
import { performance } from 'node:perf_hooks';
import type { Context, Result, Scenario, Settings } from '../context.ts';
import { log } from '../log.ts';
import { costPerDelivery, startMeter } from '../meter.ts';
import { Recorder } from '../recorder.ts';
import { drain, figures, pace, pickSenders, Session } from '../session.ts';
import { round } from '../stats.ts';

const SATURATION_MAX_STEPS = 8;
const SATURATION_BUDGET_MS = 150_000;
/** A step must beat the best so far by this factor to count as growth. */
const GROWTH = 1.05;

async function run(ctx: Context, s: Settings): Promise<Result> {
	const session = new Session(ctx, 'saturation', ctx.accounts.slice(0, s.clients));
	try {
		const { connected, failed } = await session.connect(session.clients, ctx.signal);
		session.startHeartbeat();
		const started = performance.now();
		const steps: Result[] = [];
		let best: { step: Result; recorder: Recorder } | null = null;
		let totals = { sent: 0, delivered: 0, lost: 0 };
		let overloadUndelivered = 0;
		let rate = s.rate;
		for (let i = 0; i < SATURATION_MAX_STEPS; i++) {
			if (performance.now() - started > SATURATION_BUDGET_MS) break;
			const senders = pickSenders(connected, s.senders, rate);
			const recorder = new Recorder(Math.ceil(rate * s.duration) + 1, s.clients, s.duration + 30);
			session.track(recorder, connected);
			const meter = await startMeter(ctx);
			await pace(recorder, senders, rate, s.duration * 1000, ctx.signal);
			const drained = await drain(recorder, connected, ctx.signal);
			const usage = await meter();
			const f = figures(recorder, connected, session.hub);
			const step: Result = {
				rate,
				senders: senders.length,
				sent: f.sent,
				deliveriesPerSec: f.deliveriesPerSec,
				p50: f.p50,
				p99: f.p99,
				ackP99: f.ackP99,
				lost: f.lost,
				drained,
				benchCpu: usage.benchCpu,
				serverCpu: usage.serverCpu?.total,
				otherCpu: usage.otherCpu,
				serverUsPerDelivery: costPerDelivery(usage, f.delivered)
			};
			steps.push(step);
			// A step that did not drain was past saturation: what it had not delivered after the drain
			// period is reported as `overloadUndelivered`, not as lost.
			totals = {
				sent: totals.sent + f.sent,
				delivered: totals.delivered + f.delivered,
				lost: totals.lost + (drained ? f.lost : 0)
			};
			if (!drained) overloadUndelivered = f.lost;
			log(`saturation: ${JSON.stringify(step)}`);
			const grew = !best || f.deliveriesPerSec > (best.step.deliveriesPerSec as number) * GROWTH;
			if (!best || f.deliveriesPerSec > (best.step.deliveriesPerSec as number)) {
				best = { step: { ...step, usage }, recorder };
			}
			if (!grew || !drained) break;
			rate *= 2;
		}
		if (!best) throw new Error('saturation: no step ran');
		const peak = best.recorder;
		return {
			scenario: 'saturation',
			clients: connected.length,
			sent: totals.sent,
			delivered: totals.delivered,
			lost: totals.lost,
			p50: round(peak.latency.quantile(0.5)),
			p95: round(peak.latency.quantile(0.95)),
			p99: round(peak.latency.quantile(0.99)),
			deliveriesPerSec: best.step.deliveriesPerSec,
			peakDeliveriesPerSec: best.step.deliveriesPerSec,
			peakRate: best.step.rate,
			overloadUndelivered,
			senders: best.step.senders,
			stepS: s.duration,
			connectFailures: failed,
			duplicates: session.hub.duplicates,
			steps,
			...(best.step.usage as object)
		};
	} finally {
		await session.close();
	}
}

export const saturation: Scenario = {
	defaults: { clients: 1000, senders: 20, rate: 10, duration: 4 },
	accounts: (s) => s.clients,
	run
};
