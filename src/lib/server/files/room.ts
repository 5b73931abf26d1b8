// After a file is stored, its room is told: the room object is the authority for which files a
// message may carry (it decides on a send from its own storage, never waiting for D1), so a file
// it was never told of could never be attached. If telling it fails, the file is deleted again
// and the upload is refused, so no such file lingers in the uploader's quota.
import type { Attachment } from '$shared/protocol';
import { roomStub } from '$shared/objects';
import { deleteFile, type FileInfo, type FileStoreDeps } from './store';
import { refuseFile, type FileDone } from './refusal';

export type RoomFileDeps = Pick<FileStoreDeps, 'db' | 'bucket'> & { rooms: Env['ROOMS'] };

/** A file as a message carries it: what a timeline shows, unknown measurements left out. */
export function attachmentOf(file: FileInfo): Attachment {
	const attachment: Attachment = {
		id: file.id,
		name: file.name,
		type: file.type,
		kind: file.kind,
		size: file.size
	};
	if (file.width !== null) attachment.width = file.width;
	if (file.height !== null) attachment.height = file.height;
	if (file.placeholder !== null) attachment.placeholder = file.placeholder;
	return attachment;
}

/**
 * Tells the room that `uploaderId` stored `file` for it. On failure the file is deleted (object,
 * then row) and the answer is a refusal to retry later; if even the deletion fails, the row is
 * left to the cleanup job, which removes uploads never attached.
 */
export async function shareWithRoom(
	deps: RoomFileDeps,
	roomId: string,
	uploaderId: string,
	file: FileInfo
): Promise<FileDone<object>> {
	try {
		await roomStub(deps.rooms, roomId).fileUploaded(roomId, uploaderId, attachmentOf(file));
		return { ok: true };
	} catch (err) {
		console.error(`file ${file.id}: the room was not told of it; deleting it again`, err);
		await deleteFile(deps, file.id).catch((cleanup: unknown) =>
			console.error(`file ${file.id}: deleting it failed too`, cleanup)
		);
		return refuseFile(
			503,
			'unavailable',
			'The file could not be shared just now. Try again in a moment.'
		);
	}
}
