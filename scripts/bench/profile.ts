// `--profile`: samples the JavaScript of the app and room workers through workerd's own inspector
// while a scenario runs, and sums self time per function: where the server's time goes. Linux only
// (finds the runtime's inspector port through /proc); the inspector only listens on loopback.
import WebSocket from 'ws';
import { log } from './log.ts';
import { findPort } from './proc.ts';

export const ISOLATES = ['core:user:parley-realtime', 'core:user:parley'];

type CallFrame = { functionName: string; url: string; lineNumber: number };
type ProfileNode = { id: number; callFrame: CallFrame };
type Profile = {
	nodes: ProfileNode[];
	startTime: number;
	endTime: number;
	samples?: number[];
	timeDeltas?: number[];
};

/** The inspector of workerd's runtime process among a process tree, as "127.0.0.1:port". */
export async function findInspector(pids: number[]): Promise<string | null> {
	const port = await findPort(pids, async (port) => {
		const response = await fetch(`http://127.0.0.1:${port}/json`, {
			signal: AbortSignal.timeout(2000)
		});
		const targets = (await response.json()) as { id?: string }[];
		return Array.isArray(targets) && targets.some((t) => t.id === ISOLATES[0]);
	});
	return port === null ? null : `127.0.0.1:${port}`;
}

export class Inspector {
	#ws: WebSocket;
	#next = 1;
	#waiting = new Map<number, (result: unknown) => void>();

	private constructor(ws: WebSocket) {
		this.#ws = ws;
		ws.on('message', (data) => {
			const message = JSON.parse(data.toString()) as { id?: number; result?: unknown };
			if (message.id !== undefined) this.#waiting.get(message.id)?.(message.result);
		});
	}

	static open(url: string): Promise<Inspector> {
		const ws = new WebSocket(url, { perMessageDeflate: false, maxPayload: 512 * 1024 * 1024 });
		return new Promise((resolve, reject) => {
			ws.once('open', () => resolve(new Inspector(ws)));
			ws.once('error', reject);
		});
	}

	call(method: string, params: object = {}, timeoutMs = 30_000): Promise<unknown> {
		const id = this.#next++;
		this.#ws.send(JSON.stringify({ id, method, params }));
		return new Promise((resolve, reject) => {
			const timer = setTimeout(() => reject(new Error(`${method}: no answer`)), timeoutMs);
			this.#waiting.set(id, (result) => {
				clearTimeout(timer);
				this.#waiting.delete(id);
				resolve(result);
			});
		});
	}

	close(): void {
		this.#ws.close();
	}
}

export type ProfileSummary = {
	isolate: string;
	sampledMs: number;
	/** The functions with the most self time, as "name (file:line) ms". */
	top: string[];
};

function summarize(isolate: string, profile: Profile, count: number): ProfileSummary {
	// Each sample stands for the time until the next one (timeDeltas are in microseconds).
	const byNode = new Map<number, number>();
	const samples = profile.samples ?? [];
	const deltas = profile.timeDeltas ?? [];
	for (let i = 0; i < samples.length; i++) {
		const ms = (deltas[i + 1] ?? 0) / 1000;
		byNode.set(samples[i]!, (byNode.get(samples[i]!) ?? 0) + ms);
	}
	const self = new Map<string, number>();
	for (const node of profile.nodes) {
		const { functionName, url, lineNumber } = node.callFrame;
		const file = url.split('/').pop() || '';
		const key = `${functionName || '(anonymous)'}${file ? ` (${file}:${lineNumber + 1})` : ''}`;
		self.set(key, (self.get(key) ?? 0) + (byNode.get(node.id) ?? 0));
	}
	const busy = [...self].filter(([key]) => key !== '(idle)' && key !== '(program)');
	const busyMs = busy.reduce((sum, [, ms]) => sum + ms, 0);
	const top = busy
		.sort((a, b) => b[1] - a[1])
		.slice(0, count)
		.map(([key, ms]) => `${key} ${Math.round(ms)} ms`);
	return { isolate, sampledMs: Math.round(busyMs), top };
}

/** Starts sampling the app's isolates; the returned function stops and summarizes. */
export async function startProfiling(inspector: string): Promise<() => Promise<ProfileSummary[]>> {
	const sessions: { isolate: string; inspector: Inspector }[] = [];
	for (const isolate of ISOLATES) {
		try {
			const session = await Inspector.open(`ws://${inspector}/${isolate}`);
			await session.call('Profiler.enable');
			await session.call('Profiler.setSamplingInterval', { interval: 1000 });
			await session.call('Profiler.start');
			sessions.push({ isolate, inspector: session });
		} catch (error) {
			log(`profile: cannot attach to ${isolate}: ${String(error)}`);
		}
	}
	return async () => {
		const summaries: ProfileSummary[] = [];
		for (const { isolate, inspector: session } of sessions) {
			try {
				const result = (await session.call('Profiler.stop')) as { profile: Profile };
				summaries.push(summarize(isolate, result.profile, 12));
			} catch (error) {
				log(`profile: ${isolate}: ${String(error)}`);
			} finally {
				session.close();
			}
		}
		return summaries;
	};
}
