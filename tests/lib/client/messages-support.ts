// Messages for the browser-side tests of the timeline and what is kept of it.
import type { ChatMessage } from '$shared/protocol';

/** Bob's message `seq`, at revision `rev` (its seq unless changed). */
export function message(seq: number, extra: Partial<ChatMessage> = {}): ChatMessage {
	return {
		seq,
		clientId: `c${seq}`,
		senderId: 'bob',
		senderName: 'Bob',
		kind: 'text',
		body: `message ${seq}`,
		createdAt: 1_700_000_000_000 + seq,
		rev: seq,
		...extra
	};
}

export const messages = (from: number, to: number) =>
	Array.from({ length: to - from + 1 }, (_, i) => message(from + i));
export const seqs = (list: readonly ChatMessage[]) => list.map((m) => m.seq);
export const range = (from: number, to: number) => seqs(messages(from, to));
