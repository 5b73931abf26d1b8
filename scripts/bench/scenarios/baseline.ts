// baseline: the same run as steady (everyone connected, a constant rate) in a smaller room.
import type { Scenario } from '../context.ts';
import { constantRate } from './steady.ts';

export const baseline: Scenario = {
	defaults: { clients: 200, senders: 20, rate: 20, duration: 10 },
	accounts: (s) => s.clients,
	run: (ctx, s) => constantRate('baseline', ctx, s)
};
