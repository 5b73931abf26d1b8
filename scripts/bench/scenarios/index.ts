// The scenarios, by the name `--scenario` takes, in the order a run without it goes through them.
// Each one gets a fresh room (seeded with exactly the accounts it needs as members), runs bounded in
// count and time, and returns one result line.
import type { Scenario } from '../context.ts';
import { baseline } from './baseline.ts';
import { cost } from './cost.ts';
import { deploy } from './deploy.ts';
import { e2ee } from './e2ee.ts';
import { files } from './files.ts';
import { flushApp } from './flush-app.ts';
import { flushIndex } from './flush-index.ts';
import { history } from './history.ts';
import { idle } from './idle.ts';
import { joinStorm } from './join-storm.ts';
import { lighthouse } from './lighthouse.ts';
import { longSession } from './long-session.ts';
import { manyRooms } from './many-rooms.ts';
import { placeholderScenario } from './placeholder.ts';
import { pushFanout } from './push-fanout.ts';
import { reconnectStorm } from './reconnect-storm.ts';
import { roomOpenCached } from './room-open-cached.ts';
import { saturation } from './saturation.ts';
import { search } from './search.ts';
import { siteMix } from './site-mix.ts';
import { searchFreshness } from './search-freshness.ts';
import { steady } from './steady.ts';

export const SCENARIOS: Record<string, Scenario> = {
	cost,
	baseline,
	steady,
	saturation,
	'join-storm': joinStorm,
	'reconnect-storm': reconnectStorm,
	'many-rooms': manyRooms,
	'site-mix': siteMix,
	deploy,
	files,
	placeholder: placeholderScenario,
	'room-open-cached': roomOpenCached,
	lighthouse,
	'long-session': longSession,
	idle,
	e2ee,
	// On the generated history (history-gen.ts), put into D1 before the app starts.
	search,
	history,
	'flush-index': flushIndex,
	'flush-app': flushApp,
	'search-freshness': searchFreshness,
	// Last: its members' devices are removed when it ends, but not if the run is cut short.
	'push-fanout': pushFanout
};
