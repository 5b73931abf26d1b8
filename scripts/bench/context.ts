// What every scenario is given and gives back.
import type { Account } from '../lib/parley-client.ts';
import type { RoomSpec } from './accounts.ts';
import type { HistoryData } from './history-gen.ts';

export type Settings = {
	clients: number;
	senders: number;
	/** Messages per second, room-wide. */
	rate: number;
	/** Seconds of sending (per step, for saturation). */
	duration: number;
	/** Requests measured (search: queries; history: pages; flush-index: batches per variant). */
	count?: number;
	/** Rooms, for the scenarios that spread their clients over several (many-rooms, site-mix). */
	rooms?: number;
};

export type Context = {
	base: string;
	accounts: Account[];
	rooms: Record<string, string>;
	serverPid: number | null;
	/** The server's --persist-to folder (its local D1), when the bench can read it. */
	stateDir: string | null;
	/** workerd's inspector, when --profile asked for a CPU profile of each scenario. */
	inspector: string | null;
	signal: AbortSignal;
	/** The generated history (history-gen.ts), when a scenario of the run needs it. */
	history: HistoryData | null;
};

export type Result = Record<string, unknown>;

export type Scenario = {
	defaults: Settings;
	/** Accounts the scenario needs for the given settings. */
	accounts: (s: Settings) => number;
	/**
	 * The scenario's own rooms, seeded as `<scenario>/<name>`; without it, one room named after the
	 * scenario holds the first `accounts` accounts.
	 */
	rooms?: (s: Settings) => RoomSpec[];
	run: (ctx: Context, s: Settings) => Promise<Result>;
	/** Runs on the generated history, written into D1 before the app starts. */
	history?: boolean;
	/** Starts servers of its own on copies of the seeded state (`HistoryData.snapshot`). */
	snapshot?: boolean;
};
