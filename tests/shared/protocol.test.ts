import { describe, expect, it } from 'vitest';
import {
	ErrorCode,
	MAX_ATTACHMENTS,
	MAX_MESSAGE_LENGTH,
	replyPreview,
	checkAttachments,
	checkMessageBody,
	isReactionEmoji,
	mentionedUsernames,
	parseClientFrame,
	parseServerPayload,
	parseStoredAttachments
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

describe('messages that carry files', () => {
	it('may have an empty body only when they carry files', () => {
		expect(checkMessageBody('')?.code).toBe(ErrorCode.EmptyMessage);
		expect(checkMessageBody(' \n', 0)?.code).toBe(ErrorCode.EmptyMessage);
		expect(checkMessageBody('', 1)).toBeNull();
		expect(checkMessageBody('x'.repeat(MAX_MESSAGE_LENGTH + 1), 1)?.code).toBe(
			ErrorCode.MessageTooLong
		);
	});

	it(`carry at most ${MAX_ATTACHMENTS} files, each once`, () => {
		const ids = (n: number) => Array.from({ length: n }, (_, i) => `file${i}`);
		expect(checkAttachments(ids(MAX_ATTACHMENTS))).toBeNull();
		expect(checkAttachments(ids(MAX_ATTACHMENTS + 1))?.code).toBe(ErrorCode.InvalidAttachment);
		expect(checkAttachments(['a', 'b', 'a'])?.code).toBe(ErrorCode.InvalidAttachment);
	});

	it('name them by id in a send, and describe them in a message', () => {
		const send = parseClientFrame(
			JSON.stringify({ type: 'send', clientId: 'c1', body: '', attachments: ['f1', 'f2'] })
		);
		expect(send.ok && send.frame).toEqual({
			type: 'send',
			clientId: 'c1',
			body: '',
			attachments: ['f1', 'f2']
		});
		const badId = parseClientFrame(
			JSON.stringify({ type: 'send', clientId: 'c1', body: '', attachments: [7] })
		);
		expect(badId.ok).toBe(false);
		const attachment = { id: 'f1', name: 'a.png', type: 'image/png', kind: 'image', size: 3 };
		const message = {
			seq: 1,
			clientId: 'c1',
			senderId: 'u1',
			senderName: 'Alice',
			kind: 'text',
			body: '',
			createdAt: 1,
			attachments: [attachment]
		};
		const parsed = parseServerPayload(JSON.stringify({ type: 'message', message }));
		expect(parsed.ok && parsed.frame).toEqual([{ type: 'message', message }]);
	});

	it('read stored attachments defensively', () => {
		expect(parseStoredAttachments(null)).toBeUndefined();
		expect(parseStoredAttachments('not json')).toBeUndefined();
		expect(parseStoredAttachments('[]')).toBeUndefined();
		expect(parseStoredAttachments('[{"id":"f1"}]')).toBeUndefined();
		const one = { id: 'f1', name: 'n', type: 't', kind: 'document', size: 1 };
		expect(parseStoredAttachments(JSON.stringify([one]))).toEqual([one]);
	});
});

describe('replyPreview', () => {
	const files = [{ name: 'beach.png' }, { name: 'notes.pdf' }];

	it('quotes a message of files alone by their names, and a caption by its words', () => {
		expect(replyPreview(3, 'Ana', '', false, files).snippet).toBe('📎 beach.png +1');
		expect(replyPreview(3, 'Ana', '  \n', false, [files[0]!]).snippet).toBe('📎 beach.png');
		expect(replyPreview(3, 'Ana', 'look', false, files).snippet).toBe('look');
		expect(replyPreview(3, 'Ana', '', false).snippet).toBe('');
	});

	it('quotes nothing of a deleted message', () => {
		expect(replyPreview(3, 'Ana', '', true, files)).toEqual({
			seq: 3,
			senderName: 'Ana',
			snippet: '',
			deleted: true
		});
	});
});
