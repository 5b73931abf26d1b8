import * as v from 'valibot';
import { approveDevice } from '$lib/server/e2ee/devices';
import { jsonRefusal, signedForJson } from '$lib/server/request-context';
import type { RequestHandler } from './$types';

const ApproveRequest = v.object({ approver: v.pipe(v.string(), v.minLength(1), v.maxLength(64)) });

/**
 * Approves the person's pending device `<id>` from another of their devices, once the person
 * compared the short code both show: JSON `{ approver }` (the approving device's id), an approved
 * active device of theirs. 204; refusals are `{ error: { code, message } }`.
 */
export const POST: RequestHandler = async (event) => {
	const signed = signedForJson(event, { change: true });
	if (signed instanceof Response) return signed;
	const body: unknown = await event.request.json().catch(() => undefined);
	const request = v.safeParse(ApproveRequest, body);
	if (!request.success) {
		return jsonRefusal(400, 'bad_input', 'Say which device approves: { "approver": "<id>" }.');
	}
	const approved = await approveDevice(
		signed.db,
		signed.user.id,
		request.output.approver,
		event.params.id
	);
	if (!approved.ok) return jsonRefusal(approved.status, approved.code, approved.message);
	return new Response(null, { status: 204 });
};
