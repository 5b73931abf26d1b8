// A cursor for lists read newest first by time, ties broken by id (the inbox, the audit log):
// `<ms>.<id>` of the last row of a page. Rows that change meanwhile never shift a page onto one
// already seen.

export type TimeCursor = { at: number; id: string };

export function timeCursorOf(row: { at: number; id: string }): string {
	return `${row.at}.${row.id}`;
}

/** A cursor as `timeCursorOf` makes it, or null for anything else (a bad query, answered 400). */
export function parseTimeCursor(cursor: string): TimeCursor | null {
	const match = /^(\d{1,15})\.([\w-]{1,64})$/.exec(cursor);
	return match ? { at: Number(match[1]), id: match[2]! } : null;
}
