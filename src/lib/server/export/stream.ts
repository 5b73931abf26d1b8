// The pieces both exports are made of: text produced as it is read, and times people can read.

/**
 * A byte stream of what `parts` yields, one part per pull: the next part is only made when the
 * reader (the download's connection) wants more, so a slow download holds one page in memory,
 * not the whole export. A part that fails errors the stream, and the download fails with it.
 */
export function textStream(parts: AsyncIterable<string>): ReadableStream<Uint8Array> {
	const iterator = parts[Symbol.asyncIterator]();
	const encoder = new TextEncoder();
	return new ReadableStream<Uint8Array>({
		async pull(controller) {
			const next = await iterator.next();
			if (next.done) controller.close();
			else controller.enqueue(encoder.encode(next.value));
		},
		async cancel() {
			await iterator.return?.();
		}
	});
}

/** A time (ms) as ISO 8601 in UTC, or null. */
export function isoTime(ms: number | null | undefined): string | null {
	return ms === null || ms === undefined ? null : new Date(ms).toISOString();
}

/** `2026-03-01`: the UTC day, for file names. */
export function isoDay(ms: number): string {
	return new Date(ms).toISOString().slice(0, 10);
}

/** The `Content-Disposition` of a download named `name` (ASCII letters, digits, `-_.` only). */
export function attachment(name: string): string {
	return `attachment; filename="${name.replace(/[^A-Za-z0-9._-]/g, '_')}"`;
}
