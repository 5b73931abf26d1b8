import type { Db } from '$lib/server/db';
import { issueEmailToken } from '$lib/server/auth/email-tokens';
import type { Mailer } from './mailer';

export type MailDeps = { db: Db; mailer: Mailer; origin: string };

// Links carry the secret in the fragment: browsers never send it to the server (so no access log,
// proxy or Referer header sees it), and the page posts it in a form body when the person confirms.
// The origin comes from the request, which on Cloudflare only ever carries this app's own hostnames.

export async function sendVerificationEmail(
	{ db, mailer, origin }: MailDeps,
	user: { id: string; email: string; displayName: string }
): Promise<void> {
	const token = await issueEmailToken(db, {
		userId: user.id,
		purpose: 'verify_email',
		email: user.email
	});
	await mailer.send({
		to: user.email,
		subject: 'Confirm your email address for Parley',
		text: [
			`Hi ${user.displayName},`,
			'',
			'Confirm that this is your email address by opening this link within 24 hours:',
			`${origin}/verify-email#token=${token}`,
			'',
			"If you didn't create a Parley account, don't open the link: someone else typed your",
			'address, and confirming it would vouch for their account. Ignore this email instead.'
		].join('\n')
	});
}

/** The link that turns a pending sign-up into an account (see `startRegistration`). */
export async function sendFinishRegistrationEmail(
	{ mailer, origin }: Pick<MailDeps, 'mailer' | 'origin'>,
	signup: { email: string; displayName: string; token: string }
): Promise<void> {
	await mailer.send({
		to: signup.email,
		subject: 'Finish creating your Parley account',
		text: [
			`Hi ${signup.displayName},`,
			'',
			'Open this link within 24 hours to finish creating your Parley account:',
			`${origin}/register/finish#token=${signup.token}`,
			'',
			"If you didn't ask for a Parley account, ignore this email: no account is made unless the",
			'link is opened.'
		].join('\n')
	});
}

/**
 * What the owner of an address hears when someone registers it again. It carries no link that
 * makes an account: whoever typed the address learns nothing, and the owner learns what to do.
 */
export async function sendRegistrationAttemptEmail(
	{ mailer, origin }: Pick<MailDeps, 'mailer' | 'origin'>,
	owner: { email: string; displayName: string }
): Promise<void> {
	await mailer.send({
		to: owner.email,
		subject: 'Someone tried to create a Parley account with your address',
		text: [
			`Hi ${owner.displayName},`,
			'',
			'Someone tried to create a Parley account with this address. If it was you, log in or',
			`reset your password: ${origin}/forgot-password`,
			'',
			'If it was not you, there is nothing to do: your account is unchanged.'
		].join('\n')
	});
}

export async function sendPasswordResetEmail(
	{ db, mailer, origin }: MailDeps,
	user: { id: string; email: string; displayName: string }
): Promise<void> {
	const token = await issueEmailToken(db, {
		userId: user.id,
		purpose: 'reset_password',
		email: user.email
	});
	await mailer.send({
		to: user.email,
		subject: 'Reset your Parley password',
		text: [
			`Hi ${user.displayName},`,
			'',
			'Someone (hopefully you) asked to reset your Parley password. Choose a new one within an hour:',
			`${origin}/reset-password#token=${token}`,
			'',
			'Resetting it signs you out everywhere else. If you did not ask, ignore this email: your',
			'password stays as it is.'
		].join('\n')
	});
}

export async function sendEmailChangeEmails(
	{ db, mailer, origin }: MailDeps,
	user: { id: string; email: string; displayName: string },
	newEmail: string
): Promise<void> {
	const token = await issueEmailToken(db, {
		userId: user.id,
		purpose: 'change_email',
		email: newEmail
	});
	await mailer.send({
		to: newEmail,
		subject: 'Confirm your new email address for Parley',
		text: [
			`Hi ${user.displayName},`,
			'',
			'Confirm that Parley should use this address from now on by opening this link within 24 hours:',
			`${origin}/verify-email#token=${token}`,
			'',
			'Until you do, your account keeps its current address.'
		].join('\n')
	});
	// The current owner of the address hears about it too, in case it isn't them.
	await mailer.send({
		to: user.email,
		subject: 'Your Parley email address is being changed',
		text: [
			`Hi ${user.displayName},`,
			'',
			`Someone signed in to your Parley account asked to change its email address to ${newEmail}.`,
			'Nothing changes until that address is confirmed. If this was not you, change your password',
			'and sign out your other sessions in Settings.'
		].join('\n')
	});
}
