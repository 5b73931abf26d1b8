// site-mix: a site's people at once, each with a hub socket and one room open, in rooms of every
// size, sending, typing and reading at the app's rates. `deploy` (deploy.ts) drops it all mid-run.
import { performance } from 'node:perf_hooks';
import { DatabaseSync } from 'node:sqlite';
import { setTimeout as sleep } from 'node:timers/promises';
import type { BenchClient } from '../client.ts';
import type { Context, Result, Scenario, Settings } from '../context.ts';
import { d1File } from '../history-gen.ts';
import { HubSocket, type RoomSignal } from '../hub-socket.ts';
import { log } from '../log.ts';
import { startMeter } from '../meter.ts';
import { PageProbe } from '../page-probe.ts';
import { Recorder } from '../recorder.ts';
import { drain, figures, Session } from '../session.ts';
import {
	DEFAULT_PEOPLE,
	DEFAULT_ROOMS,
	openRooms,
	seeded,
	SIZE_CLASSES,
	siteRooms,
	type SiteRoom,
	type SizeClass
} from '../site-mix.ts';
import { Histogram, round } from '../stats.ts';

const CONNECT_CONCURRENCY = 16;
/** The app's pauses (room-connection.svelte.ts): a read 300 ms after news, typing every 3 s. */
const READ_DEBOUNCE_MS = 300;
const TYPING_INTERVAL_MS = 3000;
/** After the last message: long enough for the last signal window and its chunks to leave. */
const SIGNAL_SETTLE_MS = 6000;
/** The deploy's target for the flush: D1 up to date this long after the drop. */
const FLUSH_LIMIT_MS = 60_000;
/** How long the deploy waits for every client to be back and caught up. */
const CATCH_UP_LIMIT_MS = 60_000;

type Room = {
	spec: SiteRoom;
	session: Session;
	/** The person each of the session's clients is (by slot). */
	people: number[];
	connected: BenchClient[];
	recorder: Recorder;
	/** The person who sent each of the recorder's messages. */
	senderOf: Int32Array;
};

/** What a deploy does to the run: when the sockets drop, and what it found. */
export type Drop = { afterMs: number };

function quantiles(h: Histogram) {
	return { p50: round(h.quantile(0.5)), p99: round(h.quantile(0.99)), max: round(h.max) };
}

export async function runSiteMix(
	name: string,
	ctx: Context,
	s: Settings,
	drop: Drop | null
): Promise<Result> {
	const specs = siteRooms(s);
	const open = openRooms(s.clients, specs);
	const classes = new Map(
		SIZE_CLASSES.map((cls) => [
			cls,
			{ latency: new Histogram(), ackLatency: new Histogram(), signal: new Histogram() }
		])
	);
	const expectedMessages = s.rate * s.duration;
	const totalWeight = specs.reduce((sum, r) => sum + r.weight, 0);
	const rooms: Room[] = specs.map((spec, index) => {
		const people: number[] = [];
		for (let p = 0; p < s.clients; p++) if (open[p] === index) people.push(p);
		const session = new Session(
			ctx,
			`${name}/${spec.name}`,
			people.map((p) => ctx.accounts[p]!)
		);
		const share = (expectedMessages * spec.weight) / totalWeight;
		const capacity = Math.ceil(share * 3 + 10);
		const recorder = new Recorder(capacity, people.length, s.duration + 60, classes.get(spec.cls));
		return {
			spec,
			session,
			people,
			connected: [],
			recorder,
			senderOf: new Int32Array(capacity)
		};
	});
	const byRoomId = new Map(rooms.map((room, i) => [room.session.hub.roomId, i]));
	const signals: { person: number; room: number; signal: RoomSignal }[] = [];
	const hubs = Array.from(
		{ length: s.clients },
		(_, person) =>
			new HubSocket(ctx.base, ctx.accounts[person]!, (signal) => {
				const room = byRoomId.get(signal.roomId);
				if (room !== undefined) signals.push({ person, room, signal });
			})
	);
	const timers: ReturnType<typeof setInterval>[] = [];
	try {
		// Everyone arrives before anything is measured: hub sockets first, as the layout opens its
		// socket before the room page does, then the room sockets.
		const started = performance.now();
		const deadline = started + 300_000;
		let hubFailures = 0;
		await pool(hubs, async (hub) => {
			if (!(await hub.connectWithRetry(deadline))) hubFailures++;
		});
		log(`${name}: ${s.clients - hubFailures} hub sockets open`);
		const clients = rooms.flatMap((room) => room.session.clients.map((c) => ({ room, c })));
		let connectFailures = 0;
		await pool(clients, async ({ room, c }) => {
			if (await c.connectWithRetry(deadline)) room.connected.push(c);
			else connectFailures++;
		});
		ctx.signal.throwIfAborted();
		log(
			`${name}: ${clients.length - connectFailures} room sockets in ${rooms.length} rooms, ` +
				`${Math.round((performance.now() - started) / 1000)} s`
		);
		for (const room of rooms) {
			room.connected.sort((a, b) => a.slot - b.slot);
			room.session.startHeartbeat();
			room.session.track(room.recorder, room.connected);
			room.session.hub.resetCounters();
		}

		// Reads as the app sends them: a looking client tells the room 300 ms after news.
		const readSent = new Map<BenchClient, number>();
		timers.push(
			setInterval(() => {
				for (const room of rooms) {
					for (const c of room.connected) {
						if (c.lastSeq > (readSent.get(c) ?? c.baseSeq) && c.welcomed) {
							c.sendFrame(`{"type":"read","seq":${c.lastSeq}}`);
							readSent.set(c, c.lastSeq);
						}
					}
				}
			}, READ_DEBOUNCE_MS)
		);

		const senders = rooms.map((_, i) => i).filter((i) => rooms[i]!.connected.length > 0);
		const weights = senders.map((i) => rooms[i]!.spec.weight);
		const weightSum = weights.reduce((a, b) => a + b, 0);
		const random = seeded(50);
		const typedAt = new Map<BenchClient, number>();
		// Scenario 4: the room page's server render, for one member of a room of each size, and the
		// home page, loaded over and over while the site runs (not during a deploy's drop).
		const probe = drop
			? null
			: new PageProbe([
					...SIZE_CLASSES.flatMap((cls) => {
						const room = rooms.find((r) => r.spec.cls === cls);
						if (!room) return [];
						const account = ctx.accounts[room.spec.first]!;
						return [{ label: `room, ${cls}`, path: `/rooms/${room.session.hub.roomId}`, account }];
					}),
					{ label: 'home', path: '/', account: ctx.accounts[0]! }
				]);
		const measureStart = performance.now();
		const meter = await startMeter(ctx);
		probe?.start(ctx.base, ctx.signal);
		log(`${name}: ${s.rate} msg/s site-wide for ${s.duration} s over ${senders.length} rooms`);

		let dropAt = 0;
		const dropping = drop
			? (async () => {
					await sleep(drop.afterMs, undefined, { signal: ctx.signal });
					dropAt = performance.now();
					for (const room of rooms) {
						for (const c of room.connected) {
							c.keepConnected(dropAt + 60_000);
							c.caughtUpAt = 0;
							c.drop();
						}
					}
					for (const hub of hubs) {
						hub.reconnectUntil = dropAt + 60_000;
						hub.drop();
					}
					log(`${name}: every socket dropped`);
				})()
			: null;

		const total = Math.round(s.rate * s.duration);
		for (let issued = 0; issued < total;) {
			ctx.signal.throwIfAborted();
			const due = Math.min(
				total,
				Math.floor(((performance.now() - measureStart) * s.rate) / 1000) + 1
			);
			while (issued < due) {
				issued++;
				let pick = random() * weightSum;
				let k = 0;
				while (k < senders.length - 1 && pick >= weights[k]!) pick -= weights[k++]!;
				const room = rooms[senders[k]!]!;
				const c = room.connected[Math.floor(random() * room.connected.length)]!;
				const now = performance.now();
				const n = room.recorder.issue(now);
				if (n === null) continue;
				room.senderOf[n] = room.people[c.slot]!;
				if (now - (typedAt.get(c) ?? -Infinity) >= TYPING_INTERVAL_MS) {
					c.sendFrame('{"type":"typing"}');
					typedAt.set(c, now);
				}
				c.send(room.recorder, n, `Site message ${n}: the quick brown fox jumps over the lazy dog.`);
			}
			const wait = measureStart + (issued * 1000) / s.rate - performance.now();
			if (wait > 0) await sleep(wait, undefined, { signal: ctx.signal });
		}
		await dropping;
		const pageFigures = await probe?.stop();
		if (drop) {
			// Back and caught up: welcomed again, holding every message up to the room's seq then.
			const all = rooms.flatMap((room) => room.connected);
			while (performance.now() - dropAt < CATCH_UP_LIMIT_MS) {
				if (all.every((c) => c.welcomed && c.caughtUpAt > dropAt)) break;
				await sleep(100, undefined, { signal: ctx.signal });
			}
		}
		const sentAt = performance.now();
		const drained = await Promise.all(
			rooms.map((room) => drain(room.recorder, room.connected, ctx.signal, 30_000))
		);
		const drainMs = performance.now() - sentAt;
		const flushedMs = drop && ctx.stateDir ? await d1CaughtUp(ctx, rooms, dropAt) : undefined;
		await sleep(Math.max(0, SIGNAL_SETTLE_MS - drainMs), undefined, { signal: ctx.signal });
		const usage = await meter();

		// Deliveries, by kind of room.
		const perClass = new Map<SizeClass, Record<string, number>>();
		const bump = (cls: SizeClass, key: string, n: number) => {
			const row = perClass.get(cls) ?? {};
			row[key] = (row[key] ?? 0) + n;
			perClass.set(cls, row);
		};
		let duplicates = 0;
		let gaps = 0;
		const roomErrors = new Map<string, number>();
		for (const room of rooms) {
			const f = figures(room.recorder, room.connected, room.session.hub);
			bump(room.spec.cls, 'rooms', 1);
			bump(room.spec.cls, 'sockets', room.connected.length);
			bump(room.spec.cls, 'sent', f.sent);
			bump(room.spec.cls, 'delivered', f.delivered);
			bump(room.spec.cls, 'lost', f.lost);
			duplicates += f.duplicates;
			for (const [code, n] of room.session.hub.errors)
				roomErrors.set(code, (roomErrors.get(code) ?? 0) + n);
			const roomSeq = room.session.hub.roomSeq;
			for (const c of room.connected) {
				if (c.welcomed) gaps += Math.max(0, roomSeq - c.lastSeq - c.aheadCount);
			}
		}

		// Hub signals: for each member not looking at a room, from the first message of someone else
		// they had not been told of to the signal that told them.
		const hubSignals = hubSignalFigures(rooms, open, hubs, signals, measureStart, classes);
		for (const [cls, row] of hubSignals) for (const [k, v] of Object.entries(row)) bump(cls, k, v);

		const sent = rooms.reduce((sum, r) => sum + r.recorder.sent, 0);
		const delivered = rooms.reduce((sum, r) => sum + r.recorder.delivered, 0);
		const byClass = Object.fromEntries(
			SIZE_CLASSES.map((cls) => {
				const h = classes.get(cls)!;
				return [
					cls,
					{
						...perClass.get(cls),
						delivery: quantiles(h.latency),
						ack: quantiles(h.ackLatency),
						hubSignal: quantiles(h.signal)
					}
				];
			})
		);
		const deployFigures = drop ? deployResult(rooms, hubs, dropAt) : undefined;
		return {
			scenario: name,
			people: s.clients,
			rooms: rooms.length,
			rate: s.rate,
			durationS: s.duration,
			sent,
			delivered,
			lost: rooms.reduce((sum, r) => sum + figures(r.recorder, r.connected, r.session.hub).lost, 0),
			duplicates,
			gaps,
			byClass,
			...pageFigures,
			...deployFigures,
			d1CaughtUpMs: flushedMs,
			roomErrors: roomErrors.size ? Object.fromEntries(roomErrors) : undefined,
			hubFailures,
			connectFailures,
			hubMalformed: hubs.reduce((sum, h) => sum + h.malformed, 0) || undefined,
			drained: drained.every(Boolean),
			...usage,
			serverUsPerMessage:
				usage.serverCpuMs !== undefined && sent > 0
					? round((usage.serverCpuMs * 1000) / sent)
					: undefined,
			serverUsPerDelivery:
				usage.serverCpuMs !== undefined && delivered > 0
					? round((usage.serverCpuMs * 1000) / delivered)
					: undefined
		};
	} finally {
		for (const timer of timers) clearInterval(timer);
		for (const hub of hubs) hub.close();
		await Promise.all(rooms.map((room) => room.session.close()));
	}
}

function hubSignalFigures(
	rooms: Room[],
	open: number[],
	hubs: HubSocket[],
	signals: { person: number; room: number; signal: RoomSignal }[],
	measureStart: number,
	classes: Map<SizeClass, { signal: Histogram }>
): Map<SizeClass, Record<string, number>> {
	const out = new Map<SizeClass, Record<string, number>>();
	const byPair = new Map<string, RoomSignal[]>();
	for (const { person, room, signal } of signals) {
		const key = `${person}:${room}`;
		const list = byPair.get(key);
		if (list) list.push(signal);
		else byPair.set(key, [signal]);
	}
	rooms.forEach((room, index) => {
		const { spec, recorder } = room;
		const row = { hubOwed: 0, hubSignalled: 0, hubMissing: 0, hubSignals: 0 };
		// The run's messages in seq order: when each was sent, and by whom.
		const messages: { seq: number; at: number; sender: number }[] = [];
		for (let n = 0; n < recorder.sent; n++) {
			const seq = recorder.ackSeq[n]!;
			if (seq > 0) messages.push({ seq, at: recorder.sentAt[n]!, sender: room.senderOf[n]! });
		}
		messages.sort((a, b) => a.seq - b.seq);
		for (let p = spec.first; p < spec.first + spec.members; p++) {
			if (open[p] === index || !hubs[p]!.welcomed) continue;
			const received = (byPair.get(`${p}:${index}`) ?? []).sort((a, b) => a.at - b.at);
			const before = received.filter((sig) => sig.at < measureStart);
			// Told before the run and never back: a group room has nothing more to tell them.
			if (spec.cls !== 'direct' && before.length > 0) continue;
			let toldUpTo = before.at(-1)?.seq ?? 0;
			const firstOwed = () => messages.find((m) => m.seq > toldUpTo && m.sender !== p);
			if (!firstOwed()) continue;
			row.hubOwed++;
			let signalled = false;
			for (const sig of received) {
				if (sig.at < measureStart) continue;
				const owed = firstOwed();
				if (owed) classes.get(spec.cls)!.signal.add(sig.at - owed.at);
				row.hubSignals++;
				signalled = true;
				toldUpTo = Math.max(toldUpTo, sig.seq);
				if (spec.cls !== 'direct') break;
			}
			if (signalled) row.hubSignalled++;
			// A direct conversation signals every message (merged within the window): none left over.
			if (!signalled || (spec.cls === 'direct' && firstOwed())) row.hubMissing++;
		}
		const acc = out.get(spec.cls) ?? {};
		for (const [k, v] of Object.entries(row)) acc[k] = (acc[k] ?? 0) + v;
		out.set(spec.cls, acc);
	});
	return out;
}

function deployResult(rooms: Room[], hubs: HubSocket[], dropAt: number) {
	const all = rooms.flatMap((room) => room.connected);
	const back = all.filter((c) => c.welcomed && c.caughtUpAt > dropAt);
	const caughtUp = new Histogram();
	for (const c of back) caughtUp.add(c.caughtUpAt - dropAt);
	const hubsBack = hubs.filter((h) => h.welcomed && h.welcomedAt > dropAt);
	const hubBack = new Histogram();
	for (const h of hubsBack) hubBack.add(h.welcomedAt - dropAt);
	return {
		roomSocketsBack: `${back.length}/${all.length}`,
		caughtUpMs: quantiles(caughtUp),
		hubSocketsBack: `${hubsBack.length}/${hubs.length}`,
		hubBackMs: quantiles(hubBack),
		duplicatesBeforeWelcome: rooms.reduce(
			(sum, r) => sum + r.session.hub.duplicatesBeforeWelcome,
			0
		),
		backlogDelivered: rooms.reduce((sum, r) => sum + r.recorder.backlogDelivered, 0)
	};
}

/**
 * When D1 (the app's copy, which the flush keeps) had every room's last message, in ms after the
 * drop; null if it still lacked some after `FLUSH_LIMIT_MS`. Read from the local D1 file.
 */
async function d1CaughtUp(ctx: Context, rooms: Room[], dropAt: number): Promise<number | null> {
	const db = new DatabaseSync(await d1File(ctx.stateDir!), { readOnly: true });
	try {
		const query = db.prepare('SELECT last_message_seq AS seq FROM rooms WHERE id = ?');
		const behind = () =>
			rooms.filter((room) => {
				const row = query.get(room.session.hub.roomId) as { seq: number } | undefined;
				return (row?.seq ?? 0) < room.session.hub.roomSeq;
			}).length;
		while (performance.now() - dropAt < FLUSH_LIMIT_MS) {
			if (behind() === 0) return Math.round(performance.now() - dropAt);
			await sleep(250, undefined, { signal: ctx.signal });
		}
		log(`D1 still lacks the last messages of ${behind()} rooms`);
		return null;
	} finally {
		db.close();
	}
}

async function pool<T>(items: T[], work: (item: T) => Promise<void>): Promise<void> {
	let next = 0;
	await Promise.all(
		Array.from({ length: CONNECT_CONCURRENCY }, async () => {
			while (next < items.length) await work(items[next++]!);
		})
	);
}

export function siteSettings(defaults: Partial<Settings> = {}): Settings {
	return {
		clients: DEFAULT_PEOPLE,
		senders: 1,
		rate: 50,
		duration: 30,
		rooms: DEFAULT_ROOMS,
		...defaults
	};
}

export const siteMix: Scenario = {
	defaults: siteSettings(),
	accounts: (s) => s.clients,
	rooms: (s) => siteRooms(s),
	run: (ctx, s) => runSiteMix('site-mix', ctx, s, null)
};
