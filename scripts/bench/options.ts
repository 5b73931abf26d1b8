// The bench's command line: its options, each scenario's settings after them, and the help text.
import { parseArgs } from 'node:util';
import type { Settings } from './context.ts';
import { SCENARIOS } from './scenarios/index.ts';

export const USAGE = `Usage: npm run bench -- [options]

  --scenario <list>   comma-separated, from: ${Object.keys(SCENARIOS).join(', ')} (default: all)
  --clients <n>       clients in the room (join-storm: clients that join during the storm)
  --senders <n>       how many of them send
  --rate <n>          messages per second, room-wide (saturation: the first step's rate;
                      site-mix: site-wide)
  --rooms <n>         rooms (many-rooms, site-mix, idle)
  --duration <s>      seconds of sending (saturation: per step)
  --count <n>         requests measured: search queries, history pages, flush-index batches of
                      100 messages per variant (flush-app: messages per burst; search-freshness:
                      messages)
  --url <url>         use an app that is already running instead of starting one
  --state <dir>       with --url: that server's --persist-to folder, to seed accounts into its D1
                      (without it, accounts are registered through the form: slow)
  --via-proxy         measure through wrangler's dev proxy, as a browser on \`npm run dev\` does
                      (default: straight to the runtime that runs the workers, as deployed)
  --no-build          skip \`npm run build\` (use the last build)
  --profile           sample the app's and the room's JavaScript during each scenario (workerd's
                      inspector) and print where the server's time goes to stderr
  --keep-state        keep the temporary state folder
  --quiet-wait <s>    before each scenario, wait up to this long for other processes to leave the
                      cores alone (under half a core busy elsewhere); 0 to skip (default 60)
  --max-minutes <n>   hard limit for the whole run (default 15)

Each scenario's flags default to its own settings: baseline 200 clients, 20 senders, 20 msg/s,
10 s; steady 1,000 clients, 10 senders, 10 msg/s, 20 s; saturation 1,000 clients, 20 senders,
doubling from 10 msg/s in 4 s steps; join-storm 1,000 joins in 5 s at 10 msg/s; reconnect-storm
1,000 clients drop after 3 s at 10 msg/s; room-open-cached and lighthouse 11 members (one reads, the
others write 200 messages); push-fanout 1,000 members (--clients), all but the sender with a device;
many-rooms 10 rooms (--rooms) of 100 clients, 10 senders and 1 msg/s each, 20 s; site-mix
2,000 people (--clients) in 300 rooms (--rooms: 1% large, 13% of 20-50, the rest direct), each
with a hub socket and one room open, 50 msg/s site-wide (--rate) for 30 s, while a member of a
room of each size loads its page (the server's render) and one the home page, again and again
200 ms apart; deploy the same for
25 s, every socket dropped after 8 s;
long-session one Chromium tab, 8 members writing 20 msg/s for 600 s; idle 500 rooms (--rooms)
of 10 idle sockets (--clients), quiet for 120 s.

search, history, flush-index, flush-app and search-freshness run on a generated history of
1,000,000 messages in 2,000 rooms for 5,000 people, written into the local D1 before the app
starts and cached in .bench-cache/ (keyed by the migrations and the generator's version; the first
run generates it, in about a minute). search: 300 queries (--count) of a realistic mix, as people
in 50 rooms each; history: 300 pages of 50 in those rooms; flush-index: the flush's statements,
200 batches of 100 (--count) with the search index and 200 without, on copies of the history;
flush-app: 3 bursts of 1,000 messages (--count) from 50 members (--clients) through two more
servers, with the index and without; search-freshness: 50 messages (--count), each from its
acknowledgement until a search finds it.`;

function positive(name: string, value: string | undefined): number | undefined {
	if (value === undefined) return undefined;
	const n = Number(value);
	if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number`);
	return n;
}

export function parseOptions() {
	const { values } = parseArgs({
		options: {
			scenario: { type: 'string' },
			clients: { type: 'string' },
			senders: { type: 'string' },
			rate: { type: 'string' },
			rooms: { type: 'string' },
			duration: { type: 'string' },
			count: { type: 'string' },
			url: { type: 'string' },
			state: { type: 'string' },
			'no-build': { type: 'boolean', default: false },
			'via-proxy': { type: 'boolean', default: false },
			'keep-state': { type: 'boolean', default: false },
			profile: { type: 'boolean', default: false },
			'max-minutes': { type: 'string' },
			'quiet-wait': { type: 'string' },
			help: { type: 'boolean', short: 'h', default: false }
		},
		strict: true
	});
	const names = values.scenario
		? values.scenario.split(',').map((s) => s.trim())
		: Object.keys(SCENARIOS);
	for (const name of names) {
		if (!SCENARIOS[name]) throw new Error(`unknown scenario "${name}"\n\n${USAGE}`);
	}
	const overrides: Partial<Settings> = {
		clients: positive('clients', values.clients),
		senders: positive('senders', values.senders),
		rate: positive('rate', values.rate),
		duration: positive('duration', values.duration),
		count: positive('count', values.count),
		rooms: positive('rooms', values.rooms)
	};
	for (const key of ['clients', 'senders', 'count', 'rooms'] as const) {
		if (overrides[key] !== undefined) overrides[key] = Math.floor(overrides[key]);
	}
	const plan = names.map((name) => {
		const settings = { ...SCENARIOS[name]!.defaults };
		for (const [key, value] of Object.entries(overrides)) {
			if (value !== undefined) settings[key as keyof Settings] = value;
		}
		settings.senders = Math.min(settings.senders, settings.clients);
		return { name, settings };
	});
	if (values.url && !/^https?:\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d+)?\/?$/.test(values.url)) {
		throw new Error('--url must be a loopback address (127.0.0.1 or localhost)');
	}
	return {
		plan,
		url: values.url,
		state: values.state,
		build: !values['no-build'],
		keepState: values['keep-state'],
		viaProxy: values['via-proxy'],
		profile: values.profile,
		maxMs: (positive('max-minutes', values['max-minutes']) ?? 15) * 60_000,
		quietWaitMs: Number(values['quiet-wait'] ?? 60) * 1000,
		help: values.help
	};
}
