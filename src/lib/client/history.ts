// What the history API answers, as the browser reads it. Its JSON comes over the network like any
// frame does, and is parsed as strictly: a proxy's error page, a half-deployed server or a
// truncated body must not become messages without seqs in the timeline.
import * as v from 'valibot';
import { ChatMessage } from '$shared/protocol';

/** `?before=`, `?after=` or neither: one page of a room's messages in seq order. */
export const HistoryPage = v.object({ messages: v.array(ChatMessage), hasMore: v.boolean() });
export type HistoryPage = v.InferOutput<typeof HistoryPage>;

/** `?around=`: the window of messages around one of them. */
export const HistoryWindow = v.object({
	messages: v.array(ChatMessage),
	hasOlder: v.boolean(),
	hasNewer: v.boolean()
});
export type HistoryWindow = v.InferOutput<typeof HistoryWindow>;

/**
 * Reads one answer of the history API, or null when there is none to use: offline, refused, or not
 * what the schema says. Never throws.
 */
export async function fetchHistory<S extends typeof HistoryPage | typeof HistoryWindow>(
	url: string,
	schema: S
): Promise<v.InferOutput<S> | null> {
	let data: unknown;
	try {
		const response = await fetch(url);
		if (!response.ok) return null;
		data = await response.json();
	} catch {
		return null;
	}
	const parsed = v.safeParse(schema, data);
	if (!parsed.success) {
		console.warn('ignored a malformed history answer', parsed.issues[0].message);
		return null;
	}
	return parsed.output;
}
