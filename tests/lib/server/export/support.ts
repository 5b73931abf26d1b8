// Fixtures for the export tests: history written straight into D1 (as a room's flush leaves it),
// and a download's bytes read back as the files of a ZIP.
import { env } from 'cloudflare:workers';
import { unzipSync } from 'fflate';
import type { Outcome } from '../../../support/request-event';

/**
 * `count` text messages by `senderId` in a room, from `firstSeq` on, each one minute after the
 * last, with the body `${prefix} ${n}` (n from 1). One statement, however many.
 */
export async function writeMessages(
	roomId: string,
	senderId: string,
	count: number,
	{ firstSeq = 1, prefix = 'message', at = Date.UTC(2026, 0, 5, 9, 0) } = {}
): Promise<void> {
	await env.DB.prepare(
		`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1)
		 INSERT INTO messages (room_id, seq, sender_id, client_id, kind, body, created_at)
		 SELECT ?2, ?3 + i - 1, ?4, ?2 || '-' || ?3 || '-' || i, 'text', ?5 || ' ' || i, ?6 + i * 60000 FROM n`
	)
		.bind(count, roomId, firstSeq, senderId, prefix, at)
		.run();
}

/** The whole body of a download's response. */
export async function bytesOf(outcome: Outcome): Promise<Uint8Array> {
	if (outcome.kind !== 'response')
		throw new Error(`expected a response: ${JSON.stringify(outcome)}`);
	return new Uint8Array(await outcome.response.arrayBuffer());
}

/** A ZIP's files by name. */
export function unzip(bytes: Uint8Array): Record<string, Uint8Array> {
	return unzipSync(bytes);
}

export const text = (bytes: Uint8Array | undefined) => new TextDecoder().decode(bytes);
