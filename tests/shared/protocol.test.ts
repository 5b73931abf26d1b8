import { describe, expect, it } from 'vitest';
import {
	isReactionEmoji,
	mentionedUsernames,
	parseClientFrame,
	parseServerPayload
} from '$shared/protocol';

describe('mentions', () => {
	it('finds each @username once, lower-cased, ignoring e-mail addresses and sentence dots', () => {
		expect(mentionedUsernames('@Bob and @carol.x, see @bob. Mail me at a@b.example')).toEqual([
			'bob',
			'carol.x'
		]);
		expect(mentionedUsernames('no mentions here')).toEqual([]);
		expect(mentionedUsernames('@ab is too short')).toEqual([]);
	});
});

describe('reactions', () => {
	it('accepts one emoji, with skin tones, variation selectors and ZWJ sequences', () => {
		for (const emoji of ['👍', '👍🏽', '❤️', '👩‍💻', '🇫🇷', '1️⃣']) {
			expect(isReactionEmoji(emoji), emoji).toBe(true);
		}
	});

	it('refuses words, digits, several emoji and empty text', () => {
		for (const text of ['lol', '1', '👍👍', '', 'a👍', ' 👍']) {
			expect(isReactionEmoji(text), JSON.stringify(text)).toBe(false);
		}
	});
});

describe('parseServerPayload', () => {
	it('accepts a frame or an array of frames and skips frame types it does not know', () => {
		const parsed = parseServerPayload(
			JSON.stringify([
				{ type: 'ack', clientId: 'c1', seq: 1 },
				{ type: 'from_the_future', anything: true },
				{ type: 'typing', users: [] }
			])
		);
		expect(parsed.ok && parsed.frame.map((f) => f.type)).toEqual(['ack', 'typing']);
		const single = parseServerPayload('{"type":"ack","clientId":"c1","seq":1}');
		expect(single.ok && single.frame).toHaveLength(1);
	});

	it('refuses a known frame with the wrong shape', () => {
		expect(parseServerPayload('{"type":"ack","clientId":"c1","seq":"one"}').ok).toBe(false);
		expect(parseServerPayload('not json').ok).toBe(false);
	});
});

describe('parseClientFrame', () => {
	it("refuses a malformed frame by naming what was expected, without echoing mallory's input", () => {
		const input = 'x'.repeat(15_000);
		const parsed = parseClientFrame(JSON.stringify({ type: 'hello', lastSeq: input }));
		expect(parsed.ok).toBe(false);
		if (parsed.ok) return;
		expect(parsed.error.code).toBe('bad_frame');
		expect(parsed.error.message).toBe('Invalid "lastSeq": expected number.');
	});

	it('keeps the sentences of its own checks', () => {
		const parsed = parseClientFrame(
			JSON.stringify({ type: 'react', seq: 1, emoji: 'not an emoji', on: true })
		);
		expect(parsed.ok).toBe(false);
		if (!parsed.ok)
			expect(parsed.error.message).toBe('Invalid "emoji": Reactions are a single emoji.');
	});
});
