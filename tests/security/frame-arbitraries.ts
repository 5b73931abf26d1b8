// Generators of hostile client frames, and a model of what the room's parser must answer to each.
// The model is written from the protocol's rules (field by field, in plain predicates), not from
// its valibot schemas, so that the fuzz compares two readings of the same rules.
import { fc } from '@fast-check/vitest';
import {
	ErrorCode,
	MAX_CLIENT_ID_LENGTH,
	MAX_EMOJI_LENGTH,
	MAX_FRAME_BYTES,
	MAX_MESSAGE_LENGTH,
	PING,
	isReactionEmoji,
	type ClientFrame
} from '$shared/protocol';

type FieldRule = 'seq' | 'messageSeq' | 'clientId' | 'string' | 'emoji' | 'boolean';
type Field = { rule: FieldRule; optional?: boolean };
type FrameKind = ClientFrame['type'];

/** Every client frame kind with its fields; `satisfies` makes a new kind fail to compile here. */
const FRAME_FIELDS = {
	hello: {
		lastSeq: { rule: 'seq' },
		lastRev: { rule: 'seq', optional: true },
		away: { rule: 'boolean', optional: true }
	},
	send: {
		clientId: { rule: 'clientId' },
		body: { rule: 'string' },
		replyTo: { rule: 'messageSeq', optional: true }
	},
	edit: { seq: { rule: 'messageSeq' }, body: { rule: 'string' } },
	delete: { seq: { rule: 'messageSeq' } },
	react: { seq: { rule: 'messageSeq' }, emoji: { rule: 'emoji' }, on: { rule: 'boolean' } },
	typing: {},
	read: { seq: { rule: 'seq' } },
	activity: { away: { rule: 'boolean' } },
	presence: {}
} satisfies Record<FrameKind, Record<string, Field>>;

const KINDS = Object.keys(FRAME_FIELDS) as FrameKind[];
const fieldsOf = (kind: FrameKind): [string, Field][] => Object.entries(FRAME_FIELDS[kind]);

function fits(rule: FieldRule, value: unknown): boolean {
	switch (rule) {
		case 'seq':
			return typeof value === 'number' && Number.isInteger(value) && value >= 0;
		case 'messageSeq':
			return typeof value === 'number' && Number.isInteger(value) && value >= 1;
		case 'clientId':
			return typeof value === 'string' && value.length >= 1 && value.length <= MAX_CLIENT_ID_LENGTH;
		case 'string':
			return typeof value === 'string';
		case 'emoji':
			return (
				typeof value === 'string' && value.length <= MAX_EMOJI_LENGTH && isReactionEmoji(value)
			);
		case 'boolean':
			return typeof value === 'boolean';
	}
}

export type Outcome =
	| { ok: true; frame: Record<string, unknown> }
	| { ok: false; code: typeof ErrorCode.BadFrame | typeof ErrorCode.FrameTooLarge };

/** What the parser must answer to `raw`: the frame it must produce, or the error code. */
export function expectedOutcome(raw: string | ArrayBuffer): Outcome {
	const bytes = typeof raw === 'string' ? new TextEncoder().encode(raw).byteLength : raw.byteLength;
	if (bytes > MAX_FRAME_BYTES) return { ok: false, code: ErrorCode.FrameTooLarge };
	const bad = { ok: false, code: ErrorCode.BadFrame } as const;
	let data: unknown;
	try {
		data = JSON.parse(typeof raw === 'string' ? raw : new TextDecoder().decode(raw));
	} catch {
		return bad;
	}
	if (typeof data !== 'object' || data === null || Array.isArray(data)) return bad;
	const record = data as Record<string, unknown>;
	const type = Object.hasOwn(record, 'type') ? record.type : undefined;
	if (typeof type !== 'string' || !(KINDS as string[]).includes(type)) return bad;
	const frame: Record<string, unknown> = { type };
	for (const [name, field] of fieldsOf(type as FrameKind)) {
		if (!Object.hasOwn(record, name)) {
			if (field.optional) continue;
			return bad;
		}
		if (!fits(field.rule, record[name])) return bad;
		frame[name] = record[name];
	}
	return { ok: true, frame };
}

// ---- values, as JSON text: the text can say what JSON.stringify never writes ----

const json = (value: unknown) => JSON.stringify(value);

/** Numbers spelled the ways JSON allows, around the edges of what a seq may be. */
const oddNumbers = fc.constantFrom(
	'0',
	'-0',
	'1',
	'1.0',
	'1e2',
	'1E+2',
	'-1',
	'0.5',
	'1.5',
	'-1.5',
	'9007199254740991',
	'9007199254740993',
	'123456789012345678901234567890',
	'1e300',
	'1.7976931348623157e308',
	'1e400',
	'-1e400',
	'5e-324',
	'1e-400'
);

/** Strings a careless parser or an object lookup might trip on. */
const oddStrings = fc
	.constantFrom(
		'',
		' ',
		'1',
		'true',
		'null',
		'__proto__',
		'constructor',
		'prototype',
		'toString',
		'hello',
		'\ud800',
		'\udfff',
		'a\ud83d',
		'\udc4d\ud83d',
		'\u0000',
		'\u202e',
		'\ufeff',
		'👍👍',
		'<script>alert(1)</script>',
		"'; DROP TABLE messages; --"
	)
	.map(json);

const deepNesting = fc.oneof(
	fc.integer({ min: 1, max: 9000 }).map((n) => '['.repeat(n) + ']'.repeat(n)),
	fc.integer({ min: 1, max: 3000 }).map((n) => '{"a":'.repeat(n) + '1' + '}'.repeat(n)),
	fc.integer({ min: 1, max: 2000 }).map((n) => '{"__proto__":'.repeat(n) + '{}' + '}'.repeat(n))
);

/**
 * Any JSON value at all, or one chosen to be awkward: the wrong type for nearly every field. Deep
 * and oversized values are rarer, as they cost the most to generate and to parse.
 */
export const hostileValue: fc.Arbitrary<string> = fc.oneof(
	{ weight: 8, arbitrary: fc.jsonValue({ maxDepth: 2 }).map(json) },
	{ weight: 6, arbitrary: oddNumbers },
	{ weight: 4, arbitrary: fc.double().map(json) },
	{ weight: 4, arbitrary: fc.integer({ min: -(2 ** 53), max: 2 ** 53 }).map(json) },
	{ weight: 6, arbitrary: oddStrings },
	{ weight: 4, arbitrary: fc.string({ unit: 'binary', maxLength: 80 }).map(json) },
	{
		weight: 2,
		arbitrary: fc.constantFrom(
			'null',
			'true',
			'false',
			'[]',
			'{}',
			'[1]',
			'{"valueOf":1}',
			'{"__proto__":{"isAdmin":true}}',
			'{"constructor":{"prototype":{"polluted":true}}}'
		)
	},
	{ weight: 1, arbitrary: deepNesting },
	{ weight: 1, arbitrary: fc.integer({ min: 4000, max: 20000 }).map((n) => json('x'.repeat(n))) }
);

const VALID_EMOJI = ['👍', '❤️', '👩‍💻', '🇫🇷', '1️⃣', '👍🏽', '🎉'];

/** Values that usually fit the rule (the model decides, not the generator). */
function fittingValue(rule: FieldRule): fc.Arbitrary<string> {
	switch (rule) {
		case 'seq':
			return fc.oneof(fc.nat().map(json), oddNumbers);
		case 'messageSeq':
			return fc.oneof(fc.integer({ min: 1 }).map(json), oddNumbers);
		case 'clientId':
			return fc
				.oneof(
					fc.string({ unit: 'binary', minLength: 1, maxLength: 70 }),
					// Around the limit, which counts UTF-16 units: a pair of surrogates is two.
					fc
						.tuple(fc.integer({ min: -2, max: 2 }), fc.constantFrom('c', '😀'))
						.map(
							([offset, char]) =>
								char.repeat(Math.floor((MAX_CLIENT_ID_LENGTH + offset) / char.length)) +
								'c'.repeat((MAX_CLIENT_ID_LENGTH + offset) % char.length)
						)
				)
				.map(json);
		case 'string':
			return fc
				.oneof(
					fc.string({ unit: 'binary', maxLength: 200 }),
					fc.string({ unit: 'grapheme', maxLength: 50 })
				)
				.map(json);
		case 'emoji':
			return fc
				.oneof(
					// Weighted so that a react frame, with three fields to get right, is accepted often
					// enough (about 3.5% of them, some 160 a run) that the fuzz test’s tally of accepted
					// frames stays far above its floor of 100 (with equal weights it was ~120: flaky).
					{ weight: 6, arbitrary: fc.constantFrom(...VALID_EMOJI) },
					{ weight: 1, arbitrary: fc.string({ maxLength: 4 }) },
					// One grapheme however many modifiers it carries: only the length limit refuses it.
					{
						weight: 1,
						arbitrary: fc
							.tuple(fc.integer({ min: 13, max: 16 }), fc.constantFrom('', '\ufe0f'))
							.map(([tones, selector]) => '👍' + '🏽'.repeat(tones) + selector)
					}
				)
				.map(json);
		case 'boolean':
			return fc.boolean().map(json);
	}
}

const hostileKey = fc.oneof(
	fc.constantFrom(
		'__proto__',
		'constructor',
		'prototype',
		'toString',
		'valueOf',
		'hasOwnProperty',
		'__defineGetter__',
		'type',
		'seq',
		'body',
		'lastSeq',
		'emoji',
		'on',
		'away',
		'clientId',
		'replyTo',
		'senderId',
		'userId',
		'role',
		'isAdmin'
	),
	fc.string({ unit: 'binary', maxLength: 10 })
);

const hostileType = fc.oneof(
	fc.constantFrom(...KINDS).map(json),
	fc
		.constantFrom('Hello', 'hello ', ' send', 'HELLO', 'ping', 'pong', 'welcome', 'error', 'ack')
		.map(json),
	oddStrings,
	hostileValue
);

/**
 * A JSON object shaped like one kind of client frame, each field present or not, fitting or
 * mutated, with extra keys (prototype names, repeated keys: the last one wins) in any order.
 */
export const shapedFrameOfKind: fc.Arbitrary<{ kind: FrameKind; text: string }> = fc
	.constantFrom(...KINDS)
	.chain((kind) => {
		const fields = fieldsOf(kind).map(([name, field]) =>
			fc.option(
				fc
					.oneof(
						{ weight: 3, arbitrary: fittingValue(field.rule) },
						{ weight: 2, arbitrary: hostileValue }
					)
					.map((value): [string, string] => [json(name), value]),
				{ freq: field.optional ? 2 : 12, nil: null }
			)
		);
		return fc.tuple(
			fc.constant(kind),
			fc.option(
				fc
					.oneof(
						{ weight: 6, arbitrary: fc.constant(json(kind)) },
						{ weight: 1, arbitrary: hostileType }
					)
					.map((value): [string, string] => ['"type"', value]),
				{ freq: 15, nil: null }
			),
			fc.tuple(...fields),
			fc.array(fc.tuple(hostileKey.map(json), hostileValue), { maxLength: 3 })
		);
	})
	.chain(([kind, type, fields, extras]) => {
		const entries = [type, ...fields, ...extras].filter(
			(entry): entry is [string, string] => entry !== null
		);
		return fc.tuple(
			fc.constant(kind),
			fc.shuffledSubarray(entries, { minLength: entries.length }),
			fc.constantFrom('plain', 'array', 'spaces', 'bom', 'trailing')
		);
	})
	.map(([kind, entries, wrapping]) => {
		const text = `{${entries.map(([key, value]) => `${key}:${value}`).join(',')}}`;
		const wrapped = {
			plain: text,
			array: `[${text}]`,
			spaces: ` \n\t${text}\r\n`,
			bom: `\ufeff${text}`,
			trailing: `${text}x`
		};
		return { kind, text: wrapped[wrapping] };
	});

export const shapedFrame: fc.Arbitrary<string> = shapedFrameOfKind.map(({ text }) => text);

/** Text near JSON: brackets, quotes, escapes and literals in any order. */
export const jsonishText = fc.string({
	unit: fc.constantFrom(...'{}[]":,\\ -.0123456789eEtruefalsnul'.split(''), '"type"', '\\u'),
	maxLength: 60
});

/** Frames whose UTF-8 size lands a few bytes either side of the limit, in 1 to 4 byte characters. */
export const frameNearTheLimit = fc
	.tuple(
		fc.constantFrom('a', 'é', '€', '😀', '\ud800'),
		fc.integer({ min: -12, max: 12 }),
		fc.constantFrom('send', 'edit')
	)
	.map(([char, offset, kind]) => {
		const head =
			kind === 'send'
				? '{"type":"send","clientId":"c1","body":"'
				: '{"type":"edit","seq":1,"body":"';
		const tail = '"}';
		// A lone surrogate costs 3 bytes once encoded (U+FFFD), like any character of the BMP above U+07FF.
		const charBytes = char === '\ud800' ? 3 : new TextEncoder().encode(char).byteLength;
		const room = MAX_FRAME_BYTES + offset - head.length - tail.length;
		const body = char.repeat(Math.floor(room / charBytes)) + 'a'.repeat(room % charBytes);
		return head + body + tail;
	});

export const toBuffer = (text: string): ArrayBuffer =>
	new TextEncoder().encode(text).buffer as ArrayBuffer;

/** Bytes, often not UTF-8 at all: what a binary WebSocket frame may carry. */
export const anyBytes = fc.oneof(
	fc.uint8Array({ maxLength: 200 }).map((bytes) => bytes.slice().buffer as ArrayBuffer),
	fc
		.tuple(shapedFrame, fc.uint8Array({ minLength: 1, maxLength: 4 }), fc.nat())
		.map(([text, junk, at]) => {
			// Valid JSON with raw bytes spliced in: broken UTF-8 sequences inside strings and keys.
			const bytes = new TextEncoder().encode(text);
			const cut = at % (bytes.length + 1);
			const out = new Uint8Array(bytes.length + junk.length);
			out.set(bytes.subarray(0, cut));
			out.set(junk, cut);
			out.set(bytes.subarray(cut), cut + junk.length);
			return out.buffer as ArrayBuffer;
		}),
	fc.integer({ min: MAX_FRAME_BYTES - 4, max: MAX_FRAME_BYTES + 4 }).map((n) => new ArrayBuffer(n))
);

// ---- frames for the room: each refused, and what the refusal must be ----

/**
 * The room the hostile frames are aimed at: messages 1-4 are alice's and bob's, 5 is a tombstone,
 * mallory has none. A reply is either an error with one of `codes`, or `silent` (nothing to do and
 * nothing said: a resent delete, taking back a reaction never made).
 */
export const TARGET_ROOM = { others: [1, 2, 3, 4], deleted: 5, lastSeq: 5 } as const;
export type HostileFrame = {
	raw: string | ArrayBuffer;
	reply: readonly ErrorCode[] | 'silent';
	/** What it is, for a failure message. */
	label: string;
};

const othersSeq = fc.constantFrom(...TARGET_ROOM.others);
const missingSeq = fc.oneof(
	fc.integer({ min: TARGET_ROOM.lastSeq + 1, max: 2 ** 31 }),
	fc.constantFrom(Number.MAX_SAFE_INTEGER, 1e300)
);
const goneSeq = fc.oneof(missingSeq, fc.constant(TARGET_ROOM.deleted));
const wordyBody = fc
	.string({ unit: 'grapheme', minLength: 1, maxLength: 200 })
	.filter((body) => body.trim().length > 0 && body.length <= MAX_MESSAGE_LENGTH);
const blankBody = fc.constantFrom('', ' ', '\n\t ', '\u00a0', '\u3000\u2028', '\ufeff');
const longBody = fc
	.tuple(
		fc.integer({ min: MAX_MESSAGE_LENGTH + 1, max: 5000 }),
		fc.constantFrom('x', '😀', '\u00e9')
	)
	.map(([length, char]) => char.repeat(Math.ceil(length / char.length)));

/** A frame as fast-check reports it: 1,000 frames of up to 64 KB each are no counterexample. */
function hostile(
	raw: string | ArrayBuffer,
	reply: readonly ErrorCode[] | 'silent',
	label: string
): HostileFrame {
	const frame = { raw, reply, label };
	return Object.assign(frame, { [fc.toStringMethod]: () => describeFrame(frame) });
}

/**
 * Quoted, because a report with a lone surrogate in it is not valid UTF-8: the test runner's own
 * socket refuses it, and the failure is lost.
 */
export function describeFrame(frame: HostileFrame): string {
	const text = typeof frame.raw === 'string' ? frame.raw : new TextDecoder().decode(frame.raw);
	const shown = text.length > 120 ? `${text.slice(0, 120)}… (${text.length} characters)` : text;
	return `${frame.label}${typeof frame.raw === 'string' ? '' : ' (binary)'}: ${JSON.stringify(shown)}`;
}

function refused(
	frame: fc.Arbitrary<Record<string, unknown>>,
	reply: readonly ErrorCode[] | 'silent',
	label: string
): fc.Arbitrary<HostileFrame> {
	return frame.map((value) => hostile(json(value), reply, label));
}

const { Forbidden, NotFound, EmptyMessage, MessageTooLong, RateLimited } = ErrorCode;

/** Frames that parse but that the room must refuse, or ignore, without changing anything. */
const refusedFrames: fc.Arbitrary<HostileFrame> = fc.oneof(
	refused(
		fc.record({ type: fc.constant('edit'), seq: othersSeq, body: wordyBody }),
		[Forbidden],
		"edit of another's message"
	),
	refused(
		fc.record({ type: fc.constant('edit'), seq: goneSeq, body: wordyBody }),
		[NotFound],
		'edit of a missing or deleted message'
	),
	refused(
		fc.record({ type: fc.constant('edit'), seq: fc.oneof(othersSeq, goneSeq), body: blankBody }),
		[EmptyMessage],
		'edit to a blank body'
	),
	refused(
		fc.record({ type: fc.constant('edit'), seq: fc.oneof(othersSeq, goneSeq), body: longBody }),
		[MessageTooLong],
		'edit to a body too long'
	),
	refused(
		fc.record({ type: fc.constant('delete'), seq: othersSeq }),
		[Forbidden],
		"delete of another's message"
	),
	refused(
		fc.record({ type: fc.constant('delete'), seq: missingSeq }),
		[NotFound],
		'delete of a missing message'
	),
	refused(
		fc.record({ type: fc.constant('delete'), seq: fc.constant(TARGET_ROOM.deleted) }),
		'silent',
		'delete of a deleted message'
	),
	refused(
		fc.record({
			type: fc.constant('react'),
			seq: goneSeq,
			emoji: fc.constantFrom(...VALID_EMOJI),
			on: fc.boolean()
		}),
		[NotFound],
		'reaction to a missing or deleted message'
	),
	// Reacting to others' messages is allowed: only taking back a reaction never made is hostile.
	refused(
		fc.record({
			type: fc.constant('react'),
			seq: othersSeq,
			emoji: fc.constantFrom(...VALID_EMOJI),
			on: fc.constant(false)
		}),
		'silent',
		'taking back a reaction never made'
	),
	refused(
		fc.record({ type: fc.constant('send'), clientId: fc.uuid(), body: blankBody }),
		[EmptyMessage],
		'send of a blank message'
	),
	refused(
		fc.record({ type: fc.constant('send'), clientId: fc.uuid(), body: longBody }),
		[MessageTooLong],
		'send of a message too long'
	),
	// A reply's target is looked up after the sender's budget is spent, so either answer is right.
	refused(
		fc.record({
			type: fc.constant('send'),
			clientId: fc.uuid(),
			body: wordyBody,
			replyTo: goneSeq
		}),
		[NotFound, RateLimited],
		'reply to a missing or deleted message'
	)
);

/** Frames the parser refuses, sent as text or as binary frames. */
const malformedFrames: fc.Arbitrary<HostileFrame> = fc
	.tuple(
		fc.oneof(
			{ weight: 4, arbitrary: shapedFrame },
			{ weight: 1, arbitrary: jsonishText },
			{ weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 40 }) },
			{ weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }).map(json) },
			{
				weight: 1,
				arbitrary: fc
					.integer({ min: MAX_FRAME_BYTES + 1, max: 4 * MAX_FRAME_BYTES })
					.map((n) => json({ type: 'send', clientId: 'big', body: 'x'.repeat(n) }))
			}
		),
		fc.boolean()
	)
	.map(([text, binary]) => refusedByParser(binary ? toBuffer(text) : text, binary))
	.filter((frame): frame is HostileFrame => frame !== null);

const binaryJunk: fc.Arbitrary<HostileFrame> = fc
	.uint8Array({ maxLength: 64 })
	.map((bytes) => refusedByParser(bytes.slice().buffer as ArrayBuffer, true))
	.filter((frame): frame is HostileFrame => frame !== null);

/**
 * The frame with the parser's answer, or null if it parses (those that matter are refused below)
 * or never reaches the parser: the runtime answers the exact heartbeat text itself with a pong.
 */
function refusedByParser(raw: string | ArrayBuffer, binary: boolean): HostileFrame | null {
	if (raw === PING) return null;
	const outcome = expectedOutcome(raw);
	if (outcome.ok) return null;
	return hostile(
		raw,
		[outcome.code],
		`${binary ? 'binary' : 'text'} frame refused as ${outcome.code}`
	);
}

export const hostileFrame: fc.Arbitrary<HostileFrame> = fc.oneof(
	{ weight: 3, arbitrary: malformedFrames },
	{ weight: 2, arbitrary: refusedFrames },
	{ weight: 1, arbitrary: binaryJunk }
);
