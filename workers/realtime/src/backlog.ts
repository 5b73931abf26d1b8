// The catch-up a hello gets: the messages a client missed and the changes to older ones it has,
// serialized within one byte budget, so that a reconnect never costs the room more than a bounded
// reply (invariant 4 for what fits; `more` sends the client to page the rest over HTTP).
import type { ChatMessage } from '../../../shared/protocol';
import type { MessageStore } from './message-store';

/** How many missed messages a reconnecting client gets over the socket; the rest it pages. */
export const BACKLOG_LIMIT = 500;
/**
 * Bytes of message JSON a hello's backlog carries at most (`messages` and `updates` together):
 * 500 messages of 4,000 characters are 2 MB, and a reply that size costs the runtime more than a
 * thousand ordinary frames. Past it the backlog says `more` and the client pages over HTTP.
 */
export const BACKLOG_BYTES = 512 * 1024;
/** Edits, deletions and reactions of older messages a reconnecting client gets at most. */
const UPDATES_LIMIT = 2000;

/** What the client says it has, and where the room stood when its socket was accepted. */
export type BacklogAsk = { lastSeq: number; lastRev?: number; fromSeq: number; fromRev: number };

/**
 * The `backlog` frame's JSON for a hello. Built from the pieces already serialized to measure them,
 * so the budget is what is sent. A page loaded just now has missed nothing: most joins of a storm
 * read no storage here.
 */
export function backlogFrame(messages: MessageStore, ask: BacklogAsk): string {
	const budget = { bytes: BACKLOG_BYTES };
	const missed =
		ask.lastSeq < ask.fromSeq
			? fitted(messages.after(ask.lastSeq, ask.fromSeq, BACKLOG_LIMIT + 1), BACKLOG_LIMIT, budget)
			: { json: [], cut: false };
	let updates = '';
	let updatesCut = false;
	if (ask.lastRev !== undefined) {
		const changed =
			ask.lastRev >= ask.fromRev
				? { json: [], cut: false }
				: fitted(
						messages.changedSince(
							ask.lastRev,
							ask.fromRev,
							Math.min(ask.lastSeq, ask.fromSeq),
							UPDATES_LIMIT
						),
						UPDATES_LIMIT,
						budget
					);
		updates = `,"updates":[${changed.json.join(',')}]`;
		updatesCut = changed.cut;
	}
	const more = missed.cut || updatesCut;
	return `{"type":"backlog","messages":[${missed.json.join(',')}],"more":${more}${updates}}`;
}

/**
 * Serializes messages in order until `limit` of them, or until the next would take the JSON past
 * what is left of `budget` (shared by the parts of one reply). `cut` when any were left out.
 */
function fitted(
	messages: Iterable<ChatMessage>,
	limit: number,
	budget: { bytes: number }
): { json: string[]; cut: boolean } {
	const json: string[] = [];
	for (const message of messages) {
		if (json.length >= limit) return { json, cut: true };
		const one = JSON.stringify(message);
		// One byte per character unless the text says otherwise; the separating comma counts too.
		const bytes = (NON_ASCII.test(one) ? utf8.encode(one).byteLength : one.length) + 1;
		if (bytes > budget.bytes) return { json, cut: true };
		budget.bytes -= bytes;
		json.push(one);
	}
	return { json, cut: false };
}

const NON_ASCII = /[\u0080-\uffff]/;
const utf8 = new TextEncoder();
