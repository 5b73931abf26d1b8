// The scenarios, by the name `--scenarios` takes. Each one gets a fresh room (seeded with every
// bench account as a member), runs bounded in count and time, and returns one result line.
import type { Scenario } from './context.ts';
import { baseline, steady } from './scenarios/constant-rate.ts';
import { cost } from './scenarios/cost.ts';
import { joinStorm } from './scenarios/join-storm.ts';
import { reconnectStorm } from './scenarios/reconnect-storm.ts';
import { saturation } from './scenarios/saturation.ts';

export const SCENARIOS: Record<string, Scenario> = {
	cost,
	baseline,
	steady,
	saturation,
	'join-storm': joinStorm,
	'reconnect-storm': reconnectStorm
};
