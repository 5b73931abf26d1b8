import { listOwnDevices, removeDevice } from '$lib/server/e2ee/devices';
import { field, refuse, requireSignedIn } from '$lib/server/request-context';
import type { Actions, PageServerLoad } from './$types';

/**
 * The person's devices for end-to-end encrypted conversations (docs/e2ee.md), as the directory
 * lists them. What this browser is, and approving a new device, are the page's script's: the keys
 * never leave the browser, so the server has nothing to say about them.
 */
export const load: PageServerLoad = async (event) => {
	const { db, user } = requireSignedIn(event);
	return { devices: await listOwnDevices(db, user.id) };
};

export const actions: Actions = {
	// A lost device can be removed from any session, so this works without the page's script.
	remove: async (event) => {
		const { db, user } = requireSignedIn(event);
		const deviceId = field(await event.request.formData(), 'deviceId');
		const removed = await removeDevice(db, user.id, deviceId);
		if (!removed.ok) return refuse(removed);
		return { removed: deviceId };
	}
};
