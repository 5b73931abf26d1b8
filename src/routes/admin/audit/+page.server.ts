import { listAudit } from '$lib/server/moderation/audit';
import { describeAudit, requireSiteAdmin } from '$lib/server/moderation/site-admin';
import type { PageServerLoad } from './$types';

export const load: PageServerLoad = async (event) => {
	const { db } = requireSiteAdmin(event);
	const roomId = event.url.searchParams.get('room') || undefined;
	const page = await listAudit(db, { roomId, cursor: event.url.searchParams.get('cursor') });
	return {
		roomId: roomId ?? null,
		entries: await describeAudit(db, page.entries),
		nextCursor: page.nextCursor
	};
};
