// A room's history as one self-contained HTML page: inline styles, no scripts, nothing fetched
// (its own Content-Security-Policy says so, wherever the file is opened), readable on screen and
// on paper. Every text is escaped; message bodies go through the app's Markdown renderer, which
// escapes everything and emits only its own tags, as the timeline shows them.
import { renderMarkdown } from '$shared/markdown';
import type { ChatMessage } from '$shared/protocol';

export type HtmlHeader = {
	title: string;
	kindLabel: string;
	description: string;
	memberCount: number;
	exportedAt: number;
	timeZone: string;
};

export function escapeHtml(text: string): string {
	return text
		.replaceAll('&', '&amp;')
		.replaceAll('<', '&lt;')
		.replaceAll('>', '&gt;')
		.replaceAll('"', '&quot;')
		.replaceAll("'", '&#39;');
}

const STYLE = `
:root { color-scheme: light; }
body { margin: 0 auto; max-width: 48rem; padding: 2rem 1.25rem 3rem; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1d1d22; background: #fff; }
header.room h1 { margin: 0; font-size: 1.6rem; }
header.room p { margin: 0.25rem 0; color: #55555f; }
h2.day { margin: 2rem 0 0.75rem; padding-bottom: 0.25rem; font-size: 0.95rem; color: #55555f; border-bottom: 1px solid #ddd; }
article { margin: 0 0 0.9rem; break-inside: avoid; }
article .meta { display: flex; gap: 0.5rem; align-items: baseline; flex-wrap: wrap; }
article .who { font-weight: 700; }
article .bot, article .note { font-size: 0.8rem; color: #55555f; }
article time { font-size: 0.8rem; color: #55555f; }
.body p { margin: 0; white-space: pre-wrap; }
.body p + p, .body * + blockquote, .body * + pre, .body blockquote + *, .body pre + * { margin-top: 0.4rem; }
.body blockquote { margin: 0; padding: 0.1rem 0 0.1rem 0.7rem; border-left: 3px solid #bbb; color: #55555f; }
.body code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 0.9em; padding: 0.05rem 0.3rem; border-radius: 4px; background: #f0f0f3; }
.body pre { margin: 0; padding: 0.6rem 0.75rem; overflow-x: auto; border-radius: 6px; background: #f0f0f3; white-space: pre-wrap; }
.body pre code { padding: 0; background: none; }
.body a { color: #2b4fb8; }
.body .mention { font-weight: 600; }
.reply { margin: 0 0 0.2rem; padding-left: 0.6rem; border-left: 3px solid #ddd; font-size: 0.85rem; color: #55555f; }
.system, .tombstone { font-style: italic; color: #55555f; }
ul.files { margin: 0.3rem 0 0; padding-left: 1.2rem; font-size: 0.9rem; }
.reactions { margin: 0.2rem 0 0; font-size: 0.85rem; color: #55555f; }
footer { margin-top: 2.5rem; font-size: 0.8rem; color: #55555f; }
@media print { body { max-width: none; padding: 0; font-size: 11pt; } h2.day { break-after: avoid; } }
`;

/** The page up to the first message. */
export function htmlStart(header: HtmlHeader): string {
	const clock = new Clock(header.timeZone);
	const exported = `${clock.day(header.exportedAt)} at ${clock.time(header.exportedAt)}`;
	const members = `${header.memberCount} ${header.memberCount === 1 ? 'member' : 'members'}`;
	return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>${escapeHtml(header.title)} · Parley</title>
<style>${STYLE}</style>
</head>
<body>
<header class="room">
<h1>${escapeHtml(header.title)}</h1>
<p>${escapeHtml(header.kindLabel)} · ${escapeHtml(members)}</p>
${header.description ? `<p>${escapeHtml(header.description)}</p>\n` : ''}<p>Exported on ${escapeHtml(exported)}. Times are in ${escapeHtml(header.timeZone)}.</p>
</header>
<main>
`;
}

export function htmlEnd(count: number): string {
	const what = count === 0 ? 'No messages.' : `${count} ${count === 1 ? 'message' : 'messages'}.`;
	return `</main>
<footer><p>${what} Exported from Parley.</p></footer>
</body>
</html>
`;
}

/** Writes messages in order, with a heading whenever the day changes. */
export class HtmlMessages {
	#day = '';
	#clock: Clock;
	constructor(timeZone: string) {
		this.#clock = new Clock(timeZone);
	}

	render(message: ChatMessage): string {
		const day = this.#clock.day(message.createdAt);
		let html = '';
		if (day !== this.#day) {
			this.#day = day;
			html += `<h2 class="day">${escapeHtml(day)}</h2>\n`;
		}
		return html + messageHtml(message, this.#clock);
	}
}

function messageHtml(m: ChatMessage, clock: Clock): string {
	const time = `<time datetime="${new Date(m.createdAt).toISOString()}">${escapeHtml(clock.time(m.createdAt))}</time>`;
	if (m.kind === 'system') {
		return `<article id="m${m.seq}"><p class="system">${escapeHtml(m.body)} ${time}</p></article>\n`;
	}
	const parts: string[] = [];
	const notes: string[] = [];
	if (m.bot) notes.push('<span class="bot">Bot</span>');
	if (m.editedAt !== undefined && m.deletedAt === undefined) {
		notes.push(`<span class="note">(edited)</span>`);
	}
	parts.push(
		`<div class="meta"><span class="who">${escapeHtml(m.senderName)}</span>${notes.join('')}${time}</div>`
	);
	if (m.deletedAt !== undefined) {
		const what = m.removedByModerator ? 'Message removed by an admin.' : 'Message deleted.';
		parts.push(`<p class="tombstone">${what}</p>`);
		return `<article id="m${m.seq}">${parts.join('')}</article>\n`;
	}
	if (m.replyTo) {
		const quote = m.replyTo.deleted ? 'a deleted message' : m.replyTo.snippet;
		parts.push(
			`<p class="reply">In reply to <a href="#m${m.replyTo.seq}">${escapeHtml(m.replyTo.senderName)}</a>: ${escapeHtml(quote)}</p>`
		);
	}
	if (m.body.trim() !== '') parts.push(`<div class="body">${bodyHtml(m.body)}</div>`);
	if (m.attachments?.length) {
		const items = m.attachments.map(
			(a) =>
				`<li>${escapeHtml(a.name)} <span class="note">(${escapeHtml(sizeLabel(a.size))})</span></li>`
		);
		parts.push(`<ul class="files" aria-label="Files">${items.join('')}</ul>`);
	}
	const reactions = Object.entries(m.reactions ?? {}).filter(([, ids]) => ids.length > 0);
	if (reactions.length > 0) {
		const list = reactions.map(([emoji, ids]) => `${escapeHtml(emoji)} ${ids.length}`);
		parts.push(`<p class="reactions">${list.join(' · ')}</p>`);
	}
	return `<article id="m${m.seq}">${parts.join('')}</article>\n`;
}

// The renderer shows emoji as the pictures the app ships, fetched from the app; here each is its
// own character again (the picture's alt text), so the page asks nothing of any server.
const EMOJI_PICTURE = /<img class="emoji" src="[^"]*" alt="([^"<>&]*)"[^>]*>/g;

function bodyHtml(body: string): string {
	return renderMarkdown(body).replace(EMOJI_PICTURE, '$1');
}

/** Days and times in the reader's zone; the formatters are made once per page. */
class Clock {
	#day: Intl.DateTimeFormat;
	#time: Intl.DateTimeFormat;
	constructor(timeZone: string) {
		this.#day = new Intl.DateTimeFormat('en-GB', {
			weekday: 'long',
			day: 'numeric',
			month: 'long',
			year: 'numeric',
			timeZone
		});
		this.#time = new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit', timeZone });
	}
	day(ms: number): string {
		return this.#day.format(ms);
	}
	time(ms: number): string {
		return this.#time.format(ms);
	}
}

function sizeLabel(bytes: number): string {
	if (bytes < 1024) return `${bytes} B`;
	if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
	return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}
