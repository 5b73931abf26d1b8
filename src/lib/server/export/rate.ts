import { json } from '@sveltejs/kit';
import type { Db } from '$lib/server/db';
import { consumeRateLimits, RateLimits } from '$lib/server/rate-limit';

/** The person's export budget: null to go on, or the 429 to answer (with when to try again). */
export async function exportRefusal(db: Db, userId: string): Promise<Response | null> {
	const rate = await consumeRateLimits(db, [[RateLimits.exportsPerPerson, userId]]);
	if (rate.ok) return null;
	return json(
		{
			error: {
				code: 'rate_limited',
				message: 'You have exported a lot lately. Try again later.'
			}
		},
		{ status: 429, headers: { 'Retry-After': String(rate.retryAfterSeconds) } }
	);
}
