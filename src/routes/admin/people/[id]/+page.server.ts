import { error, fail, redirect } from '@sveltejs/kit';
import { deleteAccount } from '$lib/server/accounts/deletion';
import { recordAudit } from '$lib/server/moderation/audit';
import { getAccount, isSiteAdmin, requireSiteAdmin } from '$lib/server/moderation/site-admin';
import { suspendUser, unsuspendUser } from '$lib/server/moderation/suspension';
import { deny } from '$lib/server/outcome';
import { field, refuse } from '$lib/server/request-context';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async (event) => {
	const { db, env, user } = requireSiteAdmin(event);
	const person = await getAccount(db, event.params.id);
	if (!person) error(404, 'There is no such account.');
	return {
		person,
		// Neither can be suspended or deleted from here; the page says why instead of offering it.
		protected: person.id === user.id || (person.kind === 'person' && isSiteAdmin(env, person))
	};
};

export const actions: Actions = {
	suspend: async (event) => {
		const { db, rt, env, user } = requireSiteAdmin(event);
		const reason = field(await event.request.formData(), 'reason');
		const done = await suspendUser(db, rt, user, event.params.id, reason, env);
		if (!done.ok && done.code === 'bad_input') {
			return fail(400, { values: { reason }, errors: { reason: done.message } });
		}
		if (!done.ok) return refuse(done);
		return { message: 'Suspended: signed out everywhere, and refused at sign-in.' };
	},

	unsuspend: async (event) => {
		const { db, user } = requireSiteAdmin(event);
		const note = field(await event.request.formData(), 'note');
		const done = await unsuspendUser(db, user, event.params.id, note);
		if (!done.ok) return refuse(done);
		return { message: 'Unsuspended: they can sign in again.' };
	},

	delete: async (event) => {
		const { db, rt, env, user } = requireSiteAdmin(event);
		const reason = field(await event.request.formData(), 'reason')
			.trim()
			.slice(0, 500);
		const person = await getAccount(db, event.params.id);
		if (!person) error(404, 'There is no such account.');
		if (person.id === user.id) {
			return refuse(deny(400, 'self', 'Delete your own account from your settings.'));
		}
		if (person.kind === 'person' && isSiteAdmin(env, person)) {
			return refuse(deny(403, 'forbidden', 'A site admin’s account cannot be deleted from here.'));
		}
		await deleteAccount(db, person.id, rt);
		// After the deletion, which is several steps; the entry keeps the name the account had.
		await recordAudit(db, {
			actorId: user.id,
			actorRole: 'site_admin',
			action: 'user.delete',
			targetKind: 'user',
			targetId: person.id,
			reason,
			details: { name: `${person.displayName} (@${person.username})` }
		});
		redirect(303, '/admin/people');
	}
};
