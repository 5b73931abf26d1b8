import { describe, expect, it } from 'vitest';
import { PREVIEW_LENGTH, plainPreview } from '$shared/preview';

const text = (body: string) => plainPreview({ kind: 'text', body });

describe('plainPreview', () => {
	it('reads bold, italic, strike and code as their words', () => {
		expect(text('**bold** _it_ *also it* ~~gone~~ `a < b`')).toBe('bold it also it gone a < b');
		expect(text('*The Left Hand of Darkness* is **next**')).toBe(
			'The Left Hand of Darkness is next'
		);
	});

	it('keeps the words of code blocks and quotes on one line', () => {
		expect(text('```js\nlet x = 1 && 2;\n```\nafter')).toBe('let x = 1 && 2; after');
		expect(text('> quoted\n\nmy answer')).toBe('quoted my answer');
	});

	it('keeps a link’s text and drops its target', () => {
		expect(text('see [the notes](https://example.com/notes?a=1&b=2)')).toBe('see the notes');
		expect(text('at https://example.com now')).toBe('at https://example.com now');
	});

	it('turns emoji shortcodes into emoji, but not inside code', () => {
		expect(text('good morning :sunny: :+1:')).toBe('good morning ☀️ 👍');
		expect(text('unknown :not_an_emoji: stays')).toBe('unknown :not_an_emoji: stays');
		expect(text('`:sunny:`')).toBe(':sunny:');
	});

	it('keeps emoji as characters, though the timeline draws them as pictures', () => {
		expect(text('bring the map 🗺️ 👩‍👩‍👧 🇫🇷')).toBe('bring the map 🗺️ 👩‍👩‍👧 🇫🇷');
	});

	it('shows what looks like HTML or an entity exactly as typed', () => {
		expect(text('<b>hi</b> & "quotes" &amp; 1 > 0')).toBe('<b>hi</b> & "quotes" & 1 > 0');
		expect(text('\\*not italic\\*')).toBe('*not italic*');
	});

	it('keeps mentions, underscores included', () => {
		expect(text('thanks @ann_lee, **really**')).toBe('thanks @ann_lee, really');
	});

	it('is empty for a deleted message and leaves system messages as they are', () => {
		expect(plainPreview({ kind: 'text', body: '**gone**', deletedAt: 5 })).toBe('');
		expect(plainPreview({ kind: 'text', body: 'kept', deletedAt: null })).toBe('kept');
		expect(plainPreview({ kind: 'system', body: 'Alice added *Bob*' })).toBe('Alice added *Bob*');
	});

	it('stops at the preview length without cutting an emoji in half', () => {
		const long = text(`${'a'.repeat(PREVIEW_LENGTH - 1)}:tada::tada:`);
		expect(long).toBe(`${'a'.repeat(PREVIEW_LENGTH - 1)}🎉`);
		expect(text('word '.repeat(100)).length).toBe(PREVIEW_LENGTH);
	});
});

describe('plainPreview of a message with files', () => {
	const withFiles = (body: string, ...names: string[]) =>
		plainPreview({ kind: 'text', body, attachments: names.map((name) => ({ name })) });

	it('names the first file, counts the others, and adds the caption after them', () => {
		expect(withFiles('', 'photo.jpg')).toBe('📎 photo.jpg');
		expect(withFiles('', 'photo.jpg', 'b.png', 'c.pdf')).toBe('📎 photo.jpg +2');
		expect(withFiles('Look at **this**', 'photo.jpg')).toBe('📎 photo.jpg · Look at this');
		expect(withFiles('two  lines\nhere', 'a.png', 'b.png')).toBe('📎 a.png +1 · two lines here');
		// Whitespace alone is no caption.
		expect(withFiles('  \n ', 'notes.txt')).toBe('📎 notes.txt');
	});

	it('shows nothing once the message is deleted, and a message without files as before', () => {
		expect(
			plainPreview({ kind: 'text', body: '', deletedAt: 1, attachments: [{ name: 'a.png' }] })
		).toBe('');
		expect(plainPreview({ kind: 'text', body: 'hi', attachments: [] })).toBe('hi');
		expect(plainPreview({ kind: 'text', body: 'hi', attachments: null })).toBe('hi');
	});

	it('is cut to the preview length like any preview', () => {
		const long = withFiles('x'.repeat(300), 'photo.jpg');
		expect(Array.from(long)).toHaveLength(PREVIEW_LENGTH);
		expect(long.startsWith('📎 photo.jpg · xxx')).toBe(true);
	});
});
