import { json } from '@sveltejs/kit';
import * as v from 'valibot';
import { isCrossSite, jsonRefusal, requireSignedIn } from '$lib/server/request-context';
import { reportMessage } from '$lib/server/moderation/reports';
import type { RequestHandler } from './$types';

const ReportRequest = v.object({ seq: v.pipe(v.number(), v.integer(), v.minValue(1)) });

/**
 * Reports a message of the room, for the web app's report dialog: `{ seq, reason, details? }`,
 * answered 201 `{ id }`. The room's admins see it (the site's, for a direct conversation).
 * Refusals are `{ error: { code, message } }` and record nothing.
 */
export const POST: RequestHandler = async (event) => {
	const { user, db, rt } = requireSignedIn(event);
	if (isCrossSite(event.request)) {
		return jsonRefusal(403, 'forbidden', 'This can only be done from this site.');
	}
	const body: unknown = await event.request.json().catch(() => undefined);
	const target = v.safeParse(ReportRequest, body);
	if (!target.success) {
		return jsonRefusal(400, 'bad_input', 'Say which message: { "seq": 12, "reason": "spam" }.');
	}
	const reported = await reportMessage(db, user, event.params.id, target.output.seq, body, rt);
	if (!reported.ok) {
		const status = reported.code === 'too_many' ? 429 : reported.status;
		return jsonRefusal(status, reported.code, reported.message);
	}
	return json({ id: reported.id }, { status: 201 });
};
