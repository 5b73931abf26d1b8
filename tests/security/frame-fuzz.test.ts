// Property-based fuzz of what a hostile member can put on a socket: first the frame parser alone,
// against a model of the protocol's rules, then a live room that must refuse it all unchanged.
//
// A failing property prints its seed and path (`{ seed: …, path: "…", endOnFailure: true }`).
// To replay it, add those three to that property's parameters (the object after its generators),
// or call `fc.configureGlobal({ seed, path })` at the top of this file, and run this file alone.
import { describe, expect } from 'vitest';
import { fc, test } from '@fast-check/vitest';
import { runDurableObjectAlarm } from 'cloudflare:test';
import * as v from 'valibot';
import {
	ClientFrame,
	ErrorCode,
	ErrorFrame,
	FRAME_RATE,
	ROOM_STATE_INTERVAL_MS,
	parseClientFrame,
	type ServerFrame
} from '$shared/protocol';
import { readHistory } from '$lib/server/rooms/history';
import {
	connect,
	db,
	roomStub,
	seedRoom,
	seedUser,
	sleep,
	type Person,
	type TestSocket
} from '../helpers';
import {
	TARGET_ROOM,
	anyBytes,
	describeFrame,
	expectedOutcome,
	frameNearTheLimit,
	hostileFrame,
	jsonishText,
	shapedFrame,
	shapedFrameOfKind,
	toBuffer,
	type HostileFrame
} from './frame-arbitraries';

const ERROR_CODES: readonly string[] = Object.values(ErrorCode);
/** Generous: a shared machine may run the 100,000 frames several times slower than a laptop. */
const PARSER_TIMEOUT_MS = 120_000;

/** How often each kind of shaped frame was accepted and refused: the fuzz must see both. */
const shapedTally = new Map<string, { accepted: number; refused: number }>();

/** Longer than any sentence the parser writes: a longer one would carry input back. */
const MAX_ERROR_MESSAGE = 200;

/** Parses `raw` and checks the answer against the model; returns whether it was accepted. */
function checkParse(raw: string | ArrayBuffer): boolean {
	const parsed = parseClientFrame(raw);
	const expected = expectedOutcome(raw);
	if (parsed.ok) {
		expect(expected).toEqual({ ok: true, frame: parsed.frame });
		expect(Object.getPrototypeOf(parsed.frame)).toBe(Object.prototype);
		const again = v.safeParse(ClientFrame, parsed.frame);
		expect(again.success).toBe(true);
		expect(again.output).toEqual(parsed.frame);
		return true;
	}
	expect(Object.keys(parsed.error).sort()).toEqual(['code', 'message']);
	expect(ERROR_CODES).toContain(parsed.error.code);
	expect(parsed.error.message).toMatch(/\S/);
	// An error names what was expected, never echoes the sender's input back.
	expect(parsed.error.message.length).toBeLessThan(MAX_ERROR_MESSAGE);
	expect(expected).toEqual({ ok: false, code: parsed.error.code });
	return false;
}

describe("the frame parser, fed mallory's frames (100,000 in all)", () => {
	test.prop([fc.oneof(fc.string({ unit: 'binary' }), fc.string({ unit: 'grapheme' }))], {
		numRuns: 15_000
	})(
		'never throws on any text at all, and refuses what is not a frame',
		(text) => {
			checkParse(text);
		},
		PARSER_TIMEOUT_MS
	);

	test.prop([jsonishText], { numRuns: 10_000 })(
		'answers text that is nearly JSON with a typed error or a frame that re-validates',
		(text) => {
			checkParse(text);
		},
		PARSER_TIMEOUT_MS
	);

	test.prop([fc.jsonValue()], { numRuns: 15_000 })(
		'accepts any JSON value only if it is exactly a client frame',
		(value) => {
			checkParse(JSON.stringify(value) ?? 'null');
		},
		PARSER_TIMEOUT_MS
	);

	test.prop([shapedFrameOfKind], { numRuns: 40_000 })(
		'keeps only the fields of a frame shaped like one kind, however its fields are mutated',
		({ kind, text }) => {
			const accepted = checkParse(text);
			const tally = shapedTally.get(kind) ?? { accepted: 0, refused: 0 };
			if (accepted) tally.accepted++;
			else tally.refused++;
			shapedTally.set(kind, tally);
		},
		PARSER_TIMEOUT_MS
	);

	test.prop([fc.oneof(anyBytes, shapedFrame.map(toBuffer))], { numRuns: 15_000 })(
		'reads binary frames the same way, broken UTF-8 and all',
		(buffer) => {
			checkParse(buffer);
		},
		PARSER_TIMEOUT_MS
	);

	test.prop([fc.oneof(frameNearTheLimit, frameNearTheLimit.map(toBuffer))], { numRuns: 5_000 })(
		'measures a frame in UTF-8 bytes to the byte, whatever its characters',
		(raw) => {
			checkParse(raw);
		},
		PARSER_TIMEOUT_MS
	);

	test('the shaped frames reached both answers for every kind of frame', () => {
		// Otherwise the property above could pass by only ever seeing refusals.
		for (const kind of ClientFrame.options.map((option) => option.entries.type.literal)) {
			expect(shapedTally.get(kind)?.accepted ?? 0, kind).toBeGreaterThan(100);
			expect(shapedTally.get(kind)?.refused ?? 0, kind).toBeGreaterThan(100);
		}
	});
});

// ---- the room ----

/**
 * Mallory spreads her frames over sockets and paces each well under the per-socket frame limit,
 * so that the frames reach the room's handlers rather than its limiter: a frame refused for rate
 * would not get the answer its frame calls for, and fail the property.
 */
const SOCKETS = 8;
const FIRST_BURST = FRAME_RATE.burst - 20;
const TICK_MS = 100;
// Two thirds of the sustained rate: if the room stalls and then reads a socket's backlog at once,
// the tokens saved meanwhile still cover it.
const PER_TICK = Math.floor((((FRAME_RATE.perSecond * TICK_MS) / 1000) * 2) / 3);

async function openTargetRoom() {
	const [alice, bob, mallory] = [
		await seedUser('alice'),
		await seedUser('bob'),
		await seedUser('mallory')
	];
	const room = await seedRoom(alice, bob, mallory);
	const a = await connect(room, alice, 0);
	const b = await connect(room, bob, 0);
	for (const [socket, clientId, body] of [
		[a, 'a1', 'Lunch at noon?'],
		[a, 'a2', 'The usual place'],
		[b, 'b1', 'Sure'],
		[a, 'a3', 'See you there'],
		[b, 'b2', 'wrong chat, sorry']
	] as const) {
		socket.send({ type: 'send', clientId, body });
		await socket.next('ack', (f) => f.clientId === clientId);
	}
	b.send({ type: 'delete', seq: TARGET_ROOM.deleted });
	a.send({ type: 'react', seq: 4, emoji: '👍', on: true });
	await b.next('update', (f) => f.message.seq === 4);
	const m = await connectAll(room, mallory);
	// Flushed first, so that an alarm firing during the fuzz changes nothing that is compared.
	await runDurableObjectAlarm(roomStub(room));
	await quiet([a, b, ...m]);
	for (const socket of [a, b, ...m]) socket.clear();
	return { room, alice: a, bob: b, mallory: m };
}

async function connectAll(room: string, mallory: Person): Promise<TestSocket[]> {
	const sockets: TestSocket[] = [];
	for (let i = 0; i < SOCKETS; i++) sockets.push(await connect(room, mallory, TARGET_ROOM.lastSeq));
	return sockets;
}

/** Waits until no socket has received anything for longer than the room's state interval. */
async function quiet(sockets: TestSocket[]): Promise<void> {
	for (;;) {
		const before = sockets.reduce((sum, s) => sum + s.payloads, 0);
		await sleep(ROOM_STATE_INTERVAL_MS + 150);
		if (sockets.reduce((sum, s) => sum + s.payloads, 0) === before) return;
	}
}

async function roomState(room: string) {
	const stub = roomStub(room);
	return {
		lastSeq: await stub.lastSeq(),
		revisions: await stub.revisions(),
		unflushed: await stub.unflushed({ limit: 100 }),
		history: (await readHistory(db(), stub, room, { after: 0 }, 100)).messages
	};
}

/** Sends each socket's frames in order: a burst, then under the socket's sustained rate. */
async function sendPaced(sockets: TestSocket[], plan: HostileFrame[][]): Promise<void> {
	const next = plan.map(() => 0);
	for (let round = 0; next.some((at, i) => at < plan[i]!.length); round++) {
		if (round > 0) await sleep(TICK_MS);
		for (const [i, socket] of sockets.entries()) {
			const frames = plan[i]!.slice(next[i], next[i]! + (round === 0 ? FIRST_BURST : PER_TICK));
			for (const frame of frames) socket.send(frame.raw);
			next[i]! += frames.length;
		}
	}
}

/** The first reply that is not the refusal its frame calls for, described; null if none. */
function firstWrongReply(sent: HostileFrame[], replies: ServerFrame[]): string | null {
	const answered = sent.filter((frame) => frame.reply !== 'silent');
	for (const [i, frame] of answered.entries()) {
		const reply = replies[i];
		const codes = frame.reply as readonly string[];
		if (!reply) return `no reply to ${describeFrame(frame)}`;
		if (!v.is(ErrorFrame, reply) || !codes.includes(reply.code)) {
			return `${describeFrame(frame)}\n  expected ${codes.join(' or ')}, got ${JSON.stringify(reply)}`;
		}
	}
	if (replies.length > answered.length) {
		return `unexpected replies: ${JSON.stringify(replies.slice(answered.length, answered.length + 3))}`;
	}
	return null;
}

describe('a room under mallory’s hostile frames', () => {
	test.prop([fc.array(hostileFrame, { minLength: 1000, maxLength: 1000 })], {
		numRuns: 3,
		// Each run is a fresh room and takes seconds: the failure message names the frame instead.
		endOnFailure: true
	})(
		'refuses every one with a typed error, tells bob nothing and changes nothing',
		async (frames) => {
			const { room, alice, bob, mallory } = await openTargetRoom();
			try {
				const before = await roomState(room);
				expect(before.lastSeq).toBe(TARGET_ROOM.lastSeq);
				const plan = mallory.map((_, i) => frames.filter((_, k) => k % SOCKETS === i));

				await sendPaced(mallory, plan);
				// Each socket's answers come in order: once this one is back, all earlier ones are.
				for (const socket of mallory) socket.send({ type: 'presence' });
				for (const socket of mallory) await socket.next('presence', () => true, 15_000);

				for (const [i, socket] of mallory.entries()) {
					expect(socket.closed, `socket ${i}`).toBeNull();
					const probe = socket.frames.findIndex((f) => f.type === 'presence');
					expect(firstWrongReply(plan[i]!, socket.frames.slice(0, probe))).toBeNull();
				}
				await quiet([alice, bob, ...mallory]);
				// Nothing she did reached anyone, herself included, beyond the answers above.
				expect(bob.frames).toEqual([]);
				expect(alice.frames).toEqual([]);
				const afterProbe = (s: TestSocket) =>
					s.frames.slice(s.frames.findIndex((f) => f.type === 'presence') + 1);
				expect(mallory.flatMap(afterProbe)).toEqual([]);
				expect(await roomState(room)).toEqual(before);

				// And the room still carries messages to everyone, mallory's sockets included.
				alice.send({ type: 'send', clientId: 'after', body: 'Still here?' });
				await bob.next('message', (f) => f.message.clientId === 'after');
				for (const socket of mallory) {
					await socket.next('message', (f) => f.message.clientId === 'after');
				}
			} finally {
				for (const socket of [alice, bob, ...mallory]) socket.close();
			}
		},
		180_000
	);
});
