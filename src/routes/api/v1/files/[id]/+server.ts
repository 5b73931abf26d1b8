import * as v from 'valibot';
import { ApiError, endpoint } from '$lib/server/api/endpoint';
import { Id } from '$lib/server/api/schemas';
import { serveFile } from '$lib/server/files/serve';

export const GET = endpoint({
	summary: 'Download a file',
	description:
		'A file’s bytes, if you may read the room it was shared in now (or it is a profile picture). `Range` requests are answered with 206; `download=1` asks for it as an attachment. A file you may not read is answered 404, like one that does not exist.',
	tag: 'Files',
	scope: 'read',
	rooms: 'own',
	params: v.object({ id: v.pipe(Id, v.description('The file’s id.')) }),
	query: v.object({
		download: v.pipe(v.optional(v.picklist(['0', '1'])), v.description('1: as an attachment.'))
	}),
	responseDescription: 'The file’s bytes, with its type and name in the headers.',
	errors: { 404: 'No such file, or not one you may read.' },
	handle: async ({ env, db, user, grant, params, query, event }) => {
		const answer = await serveFile({ db, bucket: env.FILES }, event.request, params.id, user.id, {
			download: query.download === '1',
			onlyRooms: grant?.rooms ?? null
		});
		// The web app's 404 is plain text for a browser; the API answers in its own shape.
		if (answer.status === 404) {
			throw new ApiError(404, 'not_found', 'No such file, or not one you may read.');
		}
		return answer;
	}
});
