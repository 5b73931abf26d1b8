import { json } from '@sveltejs/kit';
import { ApiError, endpoint } from '$lib/server/api/endpoint';
import { FileAnswer, RoomPath } from '$lib/server/api/schemas';
import { uploadToRoom } from '$lib/server/files/upload';

export const POST = endpoint({
	summary: 'Upload a file',
	description:
		'Stores a file for this room, to attach to a message you send next (`attachments: [id]`); unattached uploads are deleted after a day. The body is the file’s bytes. Headers: `X-File-Name` (the name, URI-encoded; required), and optionally `X-File-Width`/`X-File-Height` for images and video, `X-File-Kind-Hint: audio|video` for media containers. The type is read from the bytes, not trusted from the name; what the web app refuses (too large, over your quota, a type not allowed) is refused here too.',
	tag: 'Files',
	scope: 'write',
	rooms: 'path',
	params: RoomPath,
	rawBody: { mediaType: 'application/octet-stream', description: 'The file’s bytes.' },
	status: 201,
	response: FileAnswer,
	errors: {
		400: 'No name, or an empty file.',
		404: 'No such room, or not one you can send to.',
		413: 'The file is larger than allowed, or over your storage quota.',
		415: 'A type of file that is not allowed.'
	},
	handle: async ({ env, db, user, params, event, room }) => {
		await room(params.id, 'read');
		const uploaded = await uploadToRoom(env, db, user.id, params.id, event.request);
		if (!uploaded.ok) {
			const headers =
				uploaded.retryAfterSeconds !== undefined
					? { 'Retry-After': String(uploaded.retryAfterSeconds) }
					: undefined;
			throw new ApiError(uploaded.status, uploaded.code, uploaded.message, undefined, headers);
		}
		return json(uploaded.file, {
			status: 201,
			headers: { location: `/api/v1/files/${uploaded.file.id}` }
		});
	}
});
