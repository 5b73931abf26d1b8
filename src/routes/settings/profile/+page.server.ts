import { error } from '@sveltejs/kit';
import * as v from 'valibot';
import {
	MAX_BIO_LENGTH,
	MAX_STATUS_LENGTH,
	getAccount,
	updateProfile
} from '$lib/server/accounts/accounts';
import { requireSignedIn } from '$lib/server/request-context';
import { pictureUrl } from '$lib/server/files/picture-url';
import { DisplayName, parseForm, rejectForm } from '$lib/server/forms';
import type { Actions, PageServerLoad } from './$types';

const Profile = v.object({
	displayName: DisplayName,
	bio: v.pipe(
		v.string(),
		v.trim(),
		v.maxLength(MAX_BIO_LENGTH, `Keep your bio under ${MAX_BIO_LENGTH} characters.`)
	),
	statusText: v.pipe(
		v.string(),
		v.trim(),
		v.maxLength(MAX_STATUS_LENGTH, `Keep your status under ${MAX_STATUS_LENGTH} characters.`)
	)
});

export const load: PageServerLoad = async (event) => {
	const { user, db } = requireSignedIn(event);
	const account = await getAccount(db, user.id);
	if (!account) error(401, 'Sign in first.');
	const { id, username, displayName, bio, statusText } = account;
	return {
		profile: { id, username, displayName, bio, statusText, picture: pictureUrl(account.avatarKey) }
	};
};

export const actions: Actions = {
	save: async (event) => {
		const { user, db } = requireSignedIn(event);
		const form = parseForm(Profile, await event.request.formData());
		if (!form.ok) return rejectForm(form.values, form.errors);
		await updateProfile(db, user.id, form.data);
		return { saved: true };
	}
};
