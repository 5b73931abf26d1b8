import { json } from '@sveltejs/kit';
import { welcomeFor } from '$lib/server/e2ee/commits';
import { jsonRefusal, signedForJson } from '$lib/server/request-context';
import type { RequestHandler } from './$types';

/**
 * The MLS welcome waiting in this encrypted room for one of my devices (`?device=<id>`):
 * `{ welcome: { seq, welcome } | null, epoch }`, `seq` being the commit that added the device and
 * `epoch` the group's (0 while nobody has made the group: the first device to come makes it).
 */
export const GET: RequestHandler = async (event) => {
	const signed = signedForJson(event);
	if (signed instanceof Response) return signed;
	const device = event.url.searchParams.get('device') ?? '';
	if (!device) return jsonRefusal(400, 'bad_input', 'Say which device: ?device=<id>.');
	const done = await welcomeFor(
		signed.db,
		signed.env.ROOMS,
		signed.user.id,
		event.params.id,
		device
	);
	if (!done.ok) return jsonRefusal(done.status, done.code, done.message);
	return json(
		{ welcome: done.welcome, epoch: done.epoch },
		{ headers: { 'cache-control': 'no-store' } }
	);
};
