// The audit log's entry for a moderator's removal of a message has an id made from the message, so
// that the room's flush (which records every such removal) and a site admin's page (which records
// the same removal as theirs) write one entry between them, whichever comes first.

export function messageDeletionAuditId(roomId: string, seq: number): string {
	return `message.delete:${roomId}:${seq}`;
}
