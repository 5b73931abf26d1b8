import { fail } from '@sveltejs/kit';
import * as v from 'valibot';
import {
	MAX_TOKEN_NAME_LENGTH,
	MAX_TOKEN_ROOMS,
	TOKEN_LIFETIMES,
	TOKEN_SCOPES,
	createToken,
	listTokens,
	revokeToken,
	type TokenLifetime
} from '$lib/server/api/tokens';
import { parseForm, type FieldErrors } from '$lib/server/forms';
import { field, refuse, requireSignedIn } from '$lib/server/request-context';
import { listConversations } from '$lib/server/rooms/rooms';
import type { Actions, PageServerLoad } from './$types';

const LIFETIMES = Object.keys(TOKEN_LIFETIMES) as TokenLifetime[];

// Only the choices are checked here: the name and the rooms are `createToken`'s to judge, and its
// refusal is shown as it says it.
const NewTokenForm = v.object({
	scope: v.picklist(TOKEN_SCOPES, 'Choose what the token may do.'),
	lifetime: v.picklist(LIFETIMES, 'Choose when the token expires.')
});

const Revocation = v.object({ id: v.pipe(v.string(), v.nonEmpty('Choose a token to revoke.')) });

/** A refused creation: what was typed and ticked, to show the form again as it was. */
type CreateFailure = { values: Record<string, string>; rooms: string[]; errors: FieldErrors };

export const load: PageServerLoad = async (event) => {
	const { db, user } = requireSignedIn(event);
	const [tokens, conversations] = await Promise.all([
		listTokens(db, user.id),
		listConversations(db, user.id)
	]);
	const now = Date.now();
	return {
		tokens: tokens.map((token) => ({
			...token,
			expired: token.expiresAt !== null && token.expiresAt <= now
		})),
		rooms: conversations.map(({ id, kind, name }) => ({ id, kind, name })),
		lifetimes: LIFETIMES,
		maxNameLength: MAX_TOKEN_NAME_LENGTH,
		maxRooms: MAX_TOKEN_ROOMS
	};
};

export const actions: Actions = {
	create: async (event) => {
		const { db, user } = requireSignedIn(event);
		const data = await event.request.formData();
		const rooms = data.getAll('rooms').filter((id): id is string => typeof id === 'string');
		const values = {
			name: field(data, 'name'),
			scope: field(data, 'scope'),
			lifetime: field(data, 'lifetime')
		};
		const form = parseForm(NewTokenForm, data);
		if (!form.ok) return fail(400, { values, rooms, errors: form.errors } satisfies CreateFailure);
		const created = await createToken(db, user.id, { ...form.data, name: values.name, rooms });
		if (!created.ok) {
			return fail(created.status, {
				values,
				rooms,
				errors: { form: created.message }
			} satisfies CreateFailure);
		}
		// The secret goes out in this answer only: no load ever reads it again.
		return { created: { token: created.token, name: created.summary.name } };
	},

	revoke: async (event) => {
		const { db, rt, user } = requireSignedIn(event);
		const form = parseForm(Revocation, await event.request.formData());
		if (!form.ok) return fail(400, { code: 'bad_input', message: form.errors.id ?? '' });
		const revoked = await revokeToken(db, rt, user.id, form.data.id);
		if (!revoked.ok) return refuse(revoked);
		return { revoked: 'Token revoked: anything still using it is refused from now on.' };
	}
};
