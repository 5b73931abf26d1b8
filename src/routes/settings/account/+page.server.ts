import { error, fail, redirect } from '@sveltejs/kit';
import * as v from 'valibot';
import { deleteAccount } from '$lib/server/accounts/deletion';
import { sendEmailChangeEmails, sendVerificationEmail } from '$lib/server/accounts/mail';
import {
	changePassword,
	getAccount,
	hasRecentProviderAuth,
	isEmailTaken,
	setFirstPassword,
	type Account
} from '$lib/server/accounts/accounts';
import type { Db } from '$lib/server/db';
import { requireSignedIn } from '$lib/server/request-context';
import { Email, NewPassword, parseForm, type FieldErrors } from '$lib/server/forms';
import { getMailer } from '$lib/server/accounts/mailer';
import {
	PROVIDERS,
	PROVIDER_LABELS,
	beginOAuth,
	configuredProviders,
	getOAuthProvider
} from '$lib/server/auth/oauth';
import {
	describeOAuthNotice,
	listLinkedProviders,
	unlinkProvider
} from '$lib/server/auth/oauth-accounts';
import { attemptPassword } from '$lib/server/auth/password-attempts';
import { RateLimits, consumeRateLimits, describeWait } from '$lib/server/rate-limit';
import { deleteSessionTokenCookie } from '$lib/server/auth/session';
import { closeSessionSockets } from '$lib/server/realtime/session-sockets';
import { normalizeEmail } from '$lib/server/accounts/users';
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

/**
 * Checks a typed current password through the login's limiter (same policy, same key): a
 * borrowed unlocked browser gets no more guesses here than anywhere else. Answers the failure to
 * return, or null when the password is right.
 */
async function checkCurrentPassword(
	event: RequestEvent,
	db: Db,
	account: Account,
	section: Section,
	field: string,
	password: string,
	values: Record<string, string> = {}
) {
	const attempt = await attemptPassword(db, event.request, event.cookies, account, { password });
	if (attempt.ok) return null;
	if (attempt.status === 429) {
		event.setHeaders({ 'retry-after': String(attempt.retryAfterSeconds) });
		const wait = describeWait(attempt.retryAfterSeconds);
		return reject(section, values, { form: `Too many attempts. Try again in ${wait}.` }, 429);
	}
	const message =
		field === 'confirm' ? 'That is not your password.' : 'That is not your current password.';
	return reject(section, values, { [field]: message });
}

/**
 * An account without a password has no current password to ask for: instead, its session must
 * have signed in through a linked provider within the last few minutes. Otherwise the answer
 * offers a way to do that, which returns here.
 */
async function requireRecentProviderAuth(
	db: Db,
	account: Account,
	session: { providerAuthAt: number | null },
	section: Section,
	values: Record<string, string> = {}
) {
	if (hasRecentProviderAuth(session)) return null;
	const linked = await listLinkedProviders(db, account.id);
	return fail(403, {
		section,
		values,
		errors: {
			form: `For your security, confirm it's you with ${linked.map((l) => PROVIDER_LABELS[l.provider]).join(' or ') || 'your provider'} first, then try again.`
		},
		reauthenticate: linked.map(({ provider }) => ({
			provider,
			label: PROVIDER_LABELS[provider],
			href: `/auth/${provider}/reauthenticate`
		}))
	});
}

/** The guard's signed-in person, with their whole account row. */
async function signedIn(event: RequestEvent) {
	const { env, db, rt, user, session } = requireSignedIn(event);
	const account = await getAccount(db, user.id);
	if (!account) error(401, 'Sign in first.');
	return { env, db, rt, account, session };
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
		const { env, db, account, session } = await signedIn(event);
		const form = parseForm(EmailChange, await event.request.formData());
		if (!form.ok) return reject('email', form.values, form.errors);
		const newEmail = normalizeEmail(form.data.newEmail);
		const values = { newEmail: form.data.newEmail };
		if (newEmail === account.email) {
			return reject('email', values, { newEmail: 'That is already your address.' });
		}
		const refused = account.passwordHash
			? await checkCurrentPassword(
					event,
					db,
					account,
					'email',
					'currentPassword',
					form.data.currentPassword,
					values
				)
			: await requireRecentProviderAuth(db, account, session, 'email', values);
		if (refused) return refused;
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
		const { db, rt, account, session } = await signedIn(event);
		const form = parseForm(PasswordChange, await event.request.formData());
		if (!form.ok) return reject('password', {}, form.errors);
		if (!account.passwordHash) {
			return reject('password', {}, { currentPassword: 'This account has no password yet.' });
		}
		const refused = await checkCurrentPassword(
			event,
			db,
			account,
			'password',
			'currentPassword',
			form.data.currentPassword
		);
		if (refused) return refused;
		const ended = await changePassword(db, account.id, session.id, form.data.newPassword);
		await closeSessionSockets(db, rt, account.id, ended);
		return {
			section: 'password',
			message: 'Password changed. Your other sessions are signed out.'
		};
	},

	setPassword: async (event) => {
		const { db, account, session } = await signedIn(event);
		const form = parseForm(FirstPassword, await event.request.formData());
		if (!form.ok) return reject('password', {}, form.errors);
		if (!account.passwordHash) {
			const refused = await requireRecentProviderAuth(db, account, session, 'password');
			if (refused) return refused;
		}
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
		const { db, rt, account } = await signedIn(event);
		const form = parseForm(Deletion, await event.request.formData(), ['confirm']);
		if (!form.ok) return reject('delete', {}, form.errors);
		if (account.passwordHash) {
			const refused = await checkCurrentPassword(
				event,
				db,
				account,
				'delete',
				'confirm',
				form.data.confirm
			);
			if (refused) return refused;
		} else if (form.data.confirm.trim().toLowerCase() !== account.usernameKey) {
			return reject('delete', {}, { confirm: 'Type your username exactly to confirm.' });
		}
		await deleteAccount(db, account.id, rt);
		deleteSessionTokenCookie(event.cookies);
		redirect(303, '/login?notice=account-deleted');
	}
};

function tooMany(event: RequestEvent, section: Section, retryAfterSeconds: number) {
	event.setHeaders({ 'retry-after': String(retryAfterSeconds) });
	const wait = describeWait(retryAfterSeconds);
	return reject(section, {}, { form: `Too many emails sent. Try again in ${wait}.` }, 429);
}
