// What every scenario is given and gives back.
import type { Account } from '../lib/parley-client.ts';

export type Settings = {
	clients: number;
	senders: number;
	/** Messages per second, room-wide. */
	rate: number;
	/** Seconds of sending (per step, for saturation). */
	duration: number;
};

export type Context = {
	base: string;
	accounts: Account[];
	rooms: Record<string, string>;
	serverPid: number | null;
	/** workerd's inspector, when --profile asked for a CPU profile of each scenario. */
	inspector: string | null;
	signal: AbortSignal;
};

export type Result = Record<string, unknown>;

export type Scenario = {
	defaults: Settings;
	/** Accounts the scenario needs for the given settings. */
	accounts: (s: Settings) => number;
	run: (ctx: Context, s: Settings) => Promise<Result>;
};
