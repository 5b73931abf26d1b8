// Message bodies as a small Markdown subset: bold, italic, strike, inline code, code blocks, quotes
// and links. micromark is CommonMark-exact and safe by default: raw HTML is escaped (we also turn
// its HTML constructs off, so `<b>` stays text) and link targets outside http(s), mailto, irc and
// xmpp (so `javascript:` and `data:`) are emptied. It needs no DOM, so the same module renders in
// the Workers runtime during SSR and in the browser.
import { micromark } from 'micromark';
import {
	gfmAutolinkLiteral,
	gfmAutolinkLiteralHtml
} from 'micromark-extension-gfm-autolink-literal';
import { gfmStrikethrough, gfmStrikethroughHtml } from 'micromark-extension-gfm-strikethrough';
import type { CompileContext, Extension, HtmlExtension, Token } from 'micromark-util-types';
import { replaceShortcodes } from './emoji';

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
	text = text.replaceAll(MENTION_UNDERSCORE, '_');
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
		html += escapeHtml(replaceShortcodes(text.slice(last, start)));
		html += `<span class="mention${mine}" data-username="${escapeHtml(lower)}">@${escapeHtml(name)}</span>`;
		last = start + 1 + name.length;
	}
	return html + escapeHtml(replaceShortcodes(text.slice(last)));
}

/** Plain text runs (never code, link targets or autolinks) get mentions and emoji shortcodes. */
function textRuns(options: MarkdownOptions): HtmlExtension {
	return {
		exit: {
			data(this: CompileContext, token: Token) {
				this.raw(renderText(this.sliceSerialize(token), options));
			}
		}
	};
}

// micromark cuts text at every `_` (a possible emphasis marker), which would split `@ann_lee` into
// runs that no longer match a mention. Underscores inside mentions are swapped for a private-use
// character before parsing and put back in the output.
const MENTION_UNDERSCORE = '\uE000';

function protectMentions(source: string): string {
	return source.replace(MENTION, (mention) => mention.replaceAll('_', MENTION_UNDERSCORE));
}

/** The HTML for one message body. Safe to insert: it contains only the tags micromark emits. */
export function renderMarkdown(source: string, options: MarkdownOptions = {}): string {
	const html = micromark(protectMentions(source.replaceAll(MENTION_UNDERSCORE, '')), {
		extensions: syntax,
		htmlExtensions: [gfmStrikethroughHtml(), gfmAutolinkLiteralHtml(), textRuns(options)]
	});
	// Text and attribute values come out escaped, so `<a href="` can only be a tag micromark wrote.
	// A link whose target was refused keeps its text but stops being a link.
	return html
		.replaceAll(MENTION_UNDERSCORE, '_')
		.replaceAll('<a href="">', '<a>')
		.replaceAll('<a href="', '<a target="_blank" rel="noopener noreferrer" href="');
}
