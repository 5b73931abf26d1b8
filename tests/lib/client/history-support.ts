// The room's history as the browser's timeline window reads it, without fetch: a fake loader.
import type { ChatMessage } from '$shared/protocol';
import type { HistoryPage, HistoryWindow } from '$lib/client/history';
import type { PageQuery, TimelineLoader } from '$lib/client/timeline-window';
import { messages } from './messages-support';

/**
 * A room of `last` messages, as the history API serves it: pages of `size`, D1's copies (no
 * revision). `offline` answers nothing. Records every query.
 */
export class FakeHistory implements TimelineLoader {
	stored: ChatMessage[];
	queries: string[] = [];
	offline = false;
	/** Pages that also hold the message they are before or after (its boundaries moved). */
	overlap = false;

	constructor(
		last: number,
		readonly size = 50
	) {
		this.stored = messages(1, last).map(({ rev: _rev, ...copy }) => copy);
	}

	async page(query: PageQuery): Promise<HistoryPage | null> {
		this.queries.push(JSON.stringify(query));
		if (this.offline) return null;
		let found: ChatMessage[];
		let hasMore: boolean;
		const edge = this.overlap ? 1 : 0;
		if ('before' in query) {
			const older = this.stored.filter((m) => m.seq < query.before + edge);
			found = older.slice(-this.size);
			hasMore = older.length > this.size;
		} else if ('after' in query) {
			const newer = this.stored.filter((m) => m.seq > query.after - edge);
			found = newer.slice(0, this.size);
			hasMore = newer.length > this.size;
		} else {
			found = this.stored.slice(-this.size);
			hasMore = this.stored.length > this.size;
		}
		return { messages: found, hasMore };
	}

	async around(seq: number): Promise<HistoryWindow | null> {
		this.queries.push(JSON.stringify({ around: seq }));
		if (this.offline) return null;
		const at = this.stored.findIndex((m) => m.seq === seq);
		if (at === -1) return null;
		const from = Math.max(0, at - 2);
		const to = at + 3;
		return {
			messages: this.stored.slice(from, to),
			hasOlder: from > 0,
			hasNewer: to < this.stored.length
		};
	}
}
