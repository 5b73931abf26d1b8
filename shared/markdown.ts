// Message bodies as a small Markdown subset: bold, italic, strike, inline code, code blocks, quotes
// and links. micromark is CommonMark-exact and safe by default: raw HTML is escaped (we also turn
// its HTML constructs off, so `<b>` stays text) and link targets outside http(s), mailto, irc and
// xmpp (so `javascript:` and `data:`) are emptied. It needs no DOM, so the same module renders in
// the Workers runtime during SSR and in the browser.
import { compile, parse, postprocess, preprocess } from 'micromark';
import {
	gfmAutolinkLiteral,
	gfmAutolinkLiteralHtml
} from 'micromark-extension-gfm-autolink-literal';
import { gfmStrikethrough, gfmStrikethroughHtml } from 'micromark-extension-gfm-strikethrough';
import type {
	CompileContext,
	Event,
	Extension,
	HtmlExtension,
	Token,
	TokenType
} from 'micromark-util-types';
import { replaceShortcodes } from './emoji';
import { emojiPictures } from './emoji-pictures';

export type MarkdownOptions = {
	/** Usernames that can be mentioned here (lower or mixed case); absent: any `@name` is one. */
	mentionable?: readonly string[];
	/** The reader's own username: mentions of them are marked so they stand out. */
	self?: string;
};

/** Constructs a chat message does not need, and that would surprise people who type them. */
const subset: Extension = {
	disable: {
		null: [
			'headingAtx',
			'setextUnderline',
			'thematicBreak',
			'list',
			'codeIndented',
			'definition',
			'labelStartImage',
			'htmlFlow',
			'htmlText'
		]
	}
};

const syntax = [subset, gfmStrikethrough({ singleTilde: false }), gfmAutolinkLiteral()];

// A mention starts at a word boundary (so `bob@example.com` is not one) and never ends on a dot
// (so "thanks @alice." mentions alice).
const MENTION = /(?<![\p{L}\p{N}_.@])@([A-Za-z0-9_.]{3,32})/gu;

function escapeHtml(text: string): string {
	return text
		.replaceAll('&', '&amp;')
		.replaceAll('<', '&lt;')
		.replaceAll('>', '&gt;')
		.replaceAll('"', '&quot;');
}

function renderText(text: string, options: MarkdownOptions): string {
	const known = options.mentionable?.map((name) => name.toLowerCase());
	const self = options.self?.toLowerCase();
	let html = '';
	let last = 0;
	for (const match of text.matchAll(MENTION)) {
		const name = match[1]!.replace(/\.+$/, '');
		const lower = name.toLowerCase();
		if (name.length < 3 || (known && !known.includes(lower))) continue;
		const start = match.index;
		const mine = lower === self ? ' mention-self' : '';
		html += prose(text.slice(last, start));
		html += `<span class="mention${mine}" data-username="${escapeHtml(lower)}">@${escapeHtml(name)}</span>`;
		last = start + 1 + name.length;
	}
	return html + prose(text.slice(last));
}

/** Words between mentions: shortcodes become emoji, and emoji the shipped pictures. */
function prose(text: string): string {
	return emojiPictures(escapeHtml(replaceShortcodes(text)));
}

/**
 * The tokens whose text runs are read as prose: a paragraph, a link's text, emphasis, strike.
 * Text anywhere else (a link's title or target, a code fence's language) ends up inside an HTML
 * attribute, where markup written by a mention would break out of the quotes; code is never
 * prose. A construct added later stays plain text until it is listed here.
 */
const PROSE: ReadonlySet<TokenType> = new Set<TokenType>([
	'paragraph',
	'labelText',
	'emphasisText',
	'strongText',
	'strikethroughText'
]);

/**
 * The `data` tokens that are prose, each joined with the prose right after it. micromark cuts
 * text at every character that could start a construct (`_`, `*`, `[`…) and leaves the pieces as
 * separate tokens when nothing came of it, so `@ann_lee` or `:heart_eyes:` would arrive in
 * pieces that no longer match.
 */
function proseRuns(events: Event[]): WeakSet<Token> {
	const prose = new WeakSet<Token>();
	const open: Token[] = [];
	for (let i = 0; i < events.length; i++) {
		const [kind, token, context] = events[i]!;
		if (kind === 'exit') {
			open.pop();
			continue;
		}
		const parent = open.at(-1);
		open.push(token);
		if (token.type !== 'data' || !parent || !PROSE.has(parent.type)) continue;
		prose.add(token);
		// [enter data, exit data, enter data, exit data] of one run become [enter data, exit data].
		while (
			events[i + 2]?.[0] === 'enter' &&
			events[i + 2]![1].type === 'data' &&
			events[i + 2]![2] === context &&
			events[i + 2]![1].start.offset === token.end.offset
		) {
			token.end = events[i + 2]![1].end;
			events.splice(i + 1, 3, ['exit', token, context]);
		}
	}
	return prose;
}

/** Prose runs get mentions, shortcodes and emoji pictures; every other text run is plain text. */
function textRuns(prose: WeakSet<Token>, options: MarkdownOptions): HtmlExtension {
	return {
		exit: {
			data(this: CompileContext, token: Token) {
				const text = this.sliceSerialize(token);
				this.raw(prose.has(token) ? renderText(text, options) : this.encode(text));
			}
		}
	};
}

/**
 * The HTML for one message body. Safe to insert: it contains only the tags micromark emits, the
 * mention spans and emoji pictures of prose runs (`renderText`), all with escaped values.
 */
export function renderMarkdown(source: string, options: MarkdownOptions = {}): string {
	const events = postprocess(
		parse({ extensions: syntax })
			.document()
			.write(preprocess()(source, undefined, true))
	);
	const prose = proseRuns(events);
	const html = compile({
		htmlExtensions: [gfmStrikethroughHtml(), gfmAutolinkLiteralHtml(), textRuns(prose, options)]
	})(events);
	// Text and attribute values come out escaped, so `<a href="` can only be a tag micromark wrote.
	// A link whose target was refused keeps its text but stops being a link.
	return html
		.replaceAll('<a href="">', '<a>')
		.replaceAll('<a href="', '<a target="_blank" rel="noopener noreferrer" href="');
}
