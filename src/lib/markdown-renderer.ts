// The Markdown renderer (micromark) is the largest part of the room page's code, so it is not in
// the page's first load. The server renders every message with it (`hooks.server.ts` hands it
// over when the worker starts). The browser fetches it as soon as this module runs, in parallel
// with hydration: hydration keeps the HTML the server rendered for an `{@html}` block as it is
// (Svelte does not compare it), and a message that arrives before the renderer does shows its
// words as plain text for that moment, then its Markdown.
import { createSubscriber } from 'svelte/reactivity';
import type { MarkdownOptions, renderMarkdown } from '$shared/markdown';

type Render = typeof renderMarkdown;

let render: Render | null = null;
let loading: Promise<Render> | null = null;
/** Tells the messages shown as plain text that the renderer has arrived. */
let arrived: (() => void) | null = null;
const subscribe = createSubscriber((update) => {
	arrived = update;
	return () => (arrived = null);
});

/** The server's renderer, given once at start. */
export function provideMarkdown(renderer: Render): void {
	render = renderer;
}

function loadMarkdown(): Promise<Render> {
	loading ??= import('$shared/markdown').then(({ renderMarkdown }) => {
		render = renderMarkdown;
		arrived?.();
		return renderMarkdown;
	});
	return loading;
}

// In the browser only (the server is given its renderer).
if (typeof document !== 'undefined') {
	loadMarkdown().catch((err: unknown) => {
		// Offline before it arrived: messages stay plain text until the next page load.
		loading = null;
		console.warn('markdown: the renderer could not be loaded', err);
	});
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' };

/**
 * A message's HTML: its Markdown rendered, or while the renderer loads, its words escaped in one
 * paragraph. Empty for a body of only spaces, as the renderer makes it (an `{@html}` that is
 * empty on one side and not on the other would not hydrate).
 */
export function messageHtml(body: string, options: MarkdownOptions): string {
	if (render) return render(body, options);
	subscribe();
	if (body.trim() === '') return '';
	return `<p>${body.replace(/[&<>"]/g, (c) => ESCAPES[c]!)}</p>`;
}
