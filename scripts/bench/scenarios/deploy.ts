// deploy: the site mix, with every socket dropped at once partway (as a deploy's restart close
// does) and coming back with the app's backoff: everyone caught up, no gap, D1 still up to date.
import type { Scenario } from '../context.ts';
import { siteRooms } from '../site-mix.ts';
import { runSiteMix, siteSettings } from './site-mix.ts';

/** Into the run: the rooms are busy and every hub has heard from them. */
const DROP_AFTER_MS = 8000;

export const deploy: Scenario = {
	defaults: siteSettings({ duration: 25 }),
	accounts: (s) => s.clients,
	rooms: (s) => siteRooms(s),
	run: (ctx, s) => runSiteMix('deploy', ctx, s, { afterMs: DROP_AFTER_MS })
};
