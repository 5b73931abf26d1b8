import { error, fail, redirect } from '@sveltejs/kit';
import * as v from 'valibot';
import { deleteAccount } from '$lib/server/account-deletion';
import { sendEmailChangeEmails, sendVerificationEmail } from '$lib/server/account-mail';
import { changePassword, getAccount, isEmailTaken, setFirstPassword } from '$lib/server/accounts';
import { getDb, platformEnv } from '$lib/server/db';
import { Email, NewPassword, parseForm, type FieldErrors } from '$lib/server/forms';
import { getMailer } from '$lib/server/mailer';
import { PROVIDERS, beginOAuth, configuredProviders, getOAuthProvider } from '$lib/server/oauth';
import {
	describeOAuthNotice,
	listLinkedProviders,
	unlinkProvider
} from '$lib/server/oauth-accounts';
import { verifyPassword } from '$lib/server/password';
import { RateLimits, consumeRateLimits, describeWait } from '$lib/server/rate-limit';
import { realtimeOf } from '$lib/server/realtime-effects';
import { deleteSessionTokenCookie } from '$lib/server/session';
import { closeSessionSockets } from '$lib/server/session-sockets';
import { normalizeEmail } from '$lib/server/users';
import type { Actions, PageServerLoad, RequestEvent } from './$types';

const Password = v.pipe(v.string(), v.nonEmpty('Enter your current password.'));
const EmailChange = v.object({ newEmail: Email, currentPassword: v.optional(v.string(), '') });
const PasswordChange = v.object({ currentPassword: Password, newPassword: NewPassword });
const FirstPassword = v.object({ newPassword: NewPassword });
const ProviderChoice = v.object({ provider: v.picklist(PROVIDERS, 'Choose a provider.') });
const Deletion = v.object({ confirm: v.pipe(v.string(), v.nonEmpty('Confirm to delete.')) });

type Section = 'email' | 'password' | 'providers' | 'delete';

/** Several forms share the page: failures say which one they belong to. */
function reject(
	section: Section,
	values: Record<string, string>,
	errors: FieldErrors,
	status = 400
) {
	return fail(status, { section, values, errors });
}

async function signedIn({ locals, platform }: RequestEvent) {
	if (!locals.user || !locals.session) error(401, 'Sign in first.');
	const env = platformEnv(platform);
	const db = getDb(env.DB);
	const account = await getAccount(db, locals.user.id);
	if (!account) error(401, 'Sign in first.');
	return { env, db, account, session: locals.session };
}

export const load: PageServerLoad = async (event) => {
	const { env, db, account } = await signedIn(event);
	const linked = await listLinkedProviders(db, account.id);
	const params = event.url.searchParams;
	return {
		account: {
			email: account.email,
			verified: account.emailVerifiedAt !== null,
			hasPassword: account.passwordHash !== null,
			username: account.username
		},
		linked,
		available: configuredProviders(env),
		notice: describeOAuthNotice(params.get('notice'), params.get('provider'))
	};
};

export const actions: Actions = {
	resendVerification: async (event) => {
		const { env, db, account } = await signedIn(event);
		if (account.emailVerifiedAt !== null)
			return { section: 'email', message: 'Already confirmed.' };
		const limit = await consumeRateLimits(db, [[RateLimits.verifyEmailSendPerAccount, account.id]]);
		if (!limit.ok) return tooMany(event, 'email', limit.retryAfterSeconds);
		const deps = { db, mailer: getMailer(env, db), origin: event.url.origin };
		await sendVerificationEmail(deps, account);
		return { section: 'email', message: `We sent a new link to ${account.email}.` };
	},

	changeEmail: async (event) => {
		const { env, db, account } = await signedIn(event);
		const form = parseForm(EmailChange, await event.request.formData());
		if (!form.ok) return reject('email', form.values, form.errors);
		const newEmail = normalizeEmail(form.data.newEmail);
		const values = { newEmail: form.data.newEmail };
		if (newEmail === account.email) {
			return reject('email', values, { newEmail: 'That is already your address.' });
		}
		if (account.passwordHash) {
			if (!(await verifyPassword(account.passwordHash, form.data.currentPassword))) {
				return reject('email', values, { currentPassword: 'That is not your current password.' });
			}
		}
		if (await isEmailTaken(db, newEmail)) {
			return reject('email', values, { newEmail: 'Another account uses that address.' });
		}
		const limit = await consumeRateLimits(db, [[RateLimits.verifyEmailSendPerAccount, account.id]]);
		if (!limit.ok) return tooMany(event, 'email', limit.retryAfterSeconds);
		const deps = { db, mailer: getMailer(env, db), origin: event.url.origin };
		await sendEmailChangeEmails(deps, account, newEmail);
		return {
			section: 'email',
			message: `Check ${newEmail}: your address changes once you open the link we sent there.`
		};
	},

	changePassword: async (event) => {
		const { db, account, session } = await signedIn(event);
		const form = parseForm(PasswordChange, await event.request.formData());
		if (!form.ok) return reject('password', {}, form.errors);
		const result = await changePassword(db, account.id, session.id, form.data);
		if (!result.ok) return reject('password', {}, { [result.field]: result.message });
		const env = platformEnv(event.platform);
		await closeSessionSockets(db, realtimeOf(env), account.id, result.endedSessions ?? []);
		return {
			section: 'password',
			message: 'Password changed. Your other sessions are signed out.'
		};
	},

	setPassword: async (event) => {
		const { db, account } = await signedIn(event);
		const form = parseForm(FirstPassword, await event.request.formData());
		if (!form.ok) return reject('password', {}, form.errors);
		const result = await setFirstPassword(db, account.id, form.data.newPassword);
		if (!result.ok) return reject('password', {}, { [result.field]: result.message });
		return { section: 'password', message: 'Password set. You can now log in with it.' };
	},

	link: async (event) => {
		const { env } = await signedIn(event);
		const form = parseForm(ProviderChoice, await event.request.formData());
		if (!form.ok) return reject('providers', form.values, form.errors);
		const provider = getOAuthProvider(env, form.data.provider, event.url.origin);
		if (!provider) return reject('providers', {}, { form: 'That provider is not set up here.' });
		redirect(303, beginOAuth(event.cookies, provider, 'link'));
	},

	unlink: async (event) => {
		const { db, account } = await signedIn(event);
		const form = parseForm(ProviderChoice, await event.request.formData());
		if (!form.ok) return reject('providers', form.values, form.errors);
		if (!(await unlinkProvider(db, account.id, form.data.provider))) {
			return reject('providers', form.data, {
				form: 'This is your only way to sign in. Set a password or link another account first.'
			});
		}
		redirect(303, `/settings/account?notice=unlinked&provider=${form.data.provider}`);
	},

	delete: async (event) => {
		const { env, db, account } = await signedIn(event);
		const form = parseForm(Deletion, await event.request.formData(), ['confirm']);
		if (!form.ok) return reject('delete', {}, form.errors);
		const confirmed = account.passwordHash
			? await verifyPassword(account.passwordHash, form.data.confirm)
			: form.data.confirm.trim().toLowerCase() === account.usernameKey;
		if (!confirmed) {
			const message = account.passwordHash
				? 'That is not your password.'
				: 'Type your username exactly to confirm.';
			return reject('delete', {}, { confirm: message });
		}
		await deleteAccount(db, account.id, realtimeOf(env));
		deleteSessionTokenCookie(event.cookies);
		redirect(303, '/login?notice=account-deleted');
	}
};

function tooMany(event: RequestEvent, section: Section, retryAfterSeconds: number) {
	event.setHeaders({ 'retry-after': String(retryAfterSeconds) });
	const wait = describeWait(retryAfterSeconds);
	return reject(section, {}, { form: `Too many emails sent. Try again in ${wait}.` }, 429);
}
