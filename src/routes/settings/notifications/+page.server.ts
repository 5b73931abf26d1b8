import { clientLabel } from '$lib/user-agent';
import { parseForm, rejectForm } from '$lib/server/forms';
import {
	PauseForm,
	ScheduleForm,
	clearSchedule,
	getQuietHours,
	setPause,
	setSchedule
} from '$lib/server/notifications/preferences';
import {
	listPushSubscriptions,
	removePushSubscription
} from '$lib/server/notifications/push-subscriptions';
import { requireSignedIn } from '$lib/server/request-context';
import * as v from 'valibot';
import type { Actions, PageServerLoad } from './$types';

const DeviceForm = v.object({ id: v.pipe(v.string(), v.nonEmpty('Choose a device.')) });

/** The zones offered in the time zone field (any the runtime knows is accepted). */
function timeZones(): string[] {
	try {
		return Intl.supportedValuesOf('timeZone');
	} catch {
		return [];
	}
}

export const load: PageServerLoad = async (event) => {
	const { db, env, user } = requireSignedIn(event);
	return {
		quiet: await getQuietHours(db, user.id),
		devices: await listPushSubscriptions(db, user.id),
		// The page subscribes this browser to push with it; absent until configured.
		vapidPublicKey: env.VAPID_PUBLIC_KEY || null,
		// How this browser is named in the device list.
		deviceLabel: clientLabel(event.request.headers.get('user-agent') ?? ''),
		timeZones: timeZones()
	};
};

export const actions: Actions = {
	schedule: async (event) => {
		const { db, user } = requireSignedIn(event);
		const form = parseForm(ScheduleForm, await event.request.formData());
		if (!form.ok) return rejectForm(form.values, form.errors);
		await setSchedule(db, user.id, form.data);
		return { saved: 'Do not disturb schedule saved.' };
	},

	clearSchedule: async (event) => {
		const { db, user } = requireSignedIn(event);
		await clearSchedule(db, user.id);
		return { saved: 'Do not disturb schedule turned off.' };
	},

	/** Another browser of mine (this one turns itself off from the page, unsubscribing too). */
	removeDevice: async (event) => {
		const { db, user } = requireSignedIn(event);
		const form = parseForm(DeviceForm, await event.request.formData());
		if (!form.ok) return rejectForm({}, { device: form.errors.id ?? '' });
		const removed = await removePushSubscription(db, user.id, form.data.id);
		if (!removed.ok) return rejectForm({}, { device: removed.message });
		return { removed: 'Device removed: it gets no more notifications.' };
	},

	pause: async (event) => {
		const { db, user } = requireSignedIn(event);
		const form = parseForm(PauseForm, await event.request.formData());
		if (!form.ok) return rejectForm(form.values, form.errors);
		const { pause, timeZone } = form.data;
		const until = await setPause(db, user.id, pause, { timeZone });
		return { saved: until === null ? 'Notifications resumed.' : 'Notifications paused.' };
	}
};
