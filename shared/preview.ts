// What a conversation's row shows of its newest message: one line of plain text, as the message
// reads in the timeline (no `**`, no link targets, shortcodes as emoji). Made by the timeline's own
// renderer, so the row and the timeline never disagree about what is Markdown. Shared by every
// place that makes a preview: the room's flush to D1, its signals to user hubs, and the open room's
// report to the sidebar.
import { renderMarkdown } from './markdown';
import { HANDSHAKE_PREVIEW, SEALED_PREVIEW, attachmentLabel, type MessageKind } from './protocol';

export { HANDSHAKE_PREVIEW, SEALED_PREVIEW } from './protocol';

/** Characters (code points) of a preview; the row cuts it shorter on screen. */
export const PREVIEW_LENGTH = 140;

export type PreviewSource = {
	kind: MessageKind;
	body: string;
	deletedAt?: number | null;
	/** The files it carries, if any: only their names are shown. */
	attachments?: readonly { name: string }[] | null;
};

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"' };

/**
 * The preview of a message: empty once it is deleted; system messages are plain already. A
 * message with files starts with the first one's name ("📎 beach.jpg"), then how many more
 * ("📎 beach.jpg +2"), then its caption if it has one ("📎 beach.jpg +2 · Look!").
 */
export function plainPreview(message: PreviewSource): string {
	if (message.deletedAt !== undefined && message.deletedAt !== null) return '';
	if (message.kind === 'sealed') return SEALED_PREVIEW;
	if (message.kind === 'handshake') return HANDSHAKE_PREVIEW;
	const text = message.kind === 'system' ? message.body : textOf(renderMarkdown(message.body));
	const caption = text.replace(/\s+/g, ' ').trim();
	const label = attachmentLabel(message.attachments);
	if (!label) return clip(caption);
	return clip(caption ? `${label} · ${caption}` : label);
}

function textOf(html: string): string {
	// The renderer escapes every `<`, `>`, `&` and `"` of the text, so any `<` left is a tag it
	// wrote and these four are the only references to undo. Blocks are separated by line breaks
	// in its output, so dropping the tags never glues two paragraphs together. An emoji's picture
	// gives back its character (its alt text, which is never anything but the emoji).
	return html
		.replace(/<img class="emoji" [^>]*alt="([^"]*)"[^>]*>/g, '$1')
		.replace(/<[^>]*>/g, '')
		.replace(/&(amp|lt|gt|quot);/g, (_, name: string) => ENTITIES[name] ?? '');
}

function clip(text: string): string {
	const points = Array.from(text);
	// By code point, so an emoji is never cut in half.
	return points.length > PREVIEW_LENGTH ? points.slice(0, PREVIEW_LENGTH).join('') : text;
}
