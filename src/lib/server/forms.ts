import { fail, type ActionFailure } from '@sveltejs/kit';
import * as v from 'valibot';
import { isCommonPassword } from './auth/common-passwords';
import { MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH } from './auth/password';

export type FieldErrors = Record<string, string>;
export type FormResult<T> =
	{ ok: true; data: T } | { ok: false; errors: FieldErrors; values: Record<string, string> };

/**
 * Validates a submitted form against a valibot object schema. On failure returns the first error
 * per field and the entered values (secrets left out) so the form can be shown again as typed.
 */
export function parseForm<S extends v.GenericSchema<Record<string, string>, unknown>>(
	schema: S,
	form: FormData,
	secretFields: string[] = ['password', 'currentPassword', 'newPassword']
): FormResult<v.InferOutput<S>> {
	const raw: Record<string, string> = {};
	for (const [key, value] of form) if (typeof value === 'string') raw[key] = value;
	const result = v.safeParse(schema, raw);
	if (result.success) return { ok: true, data: result.output };
	const errors: FieldErrors = {};
	for (const issue of result.issues) {
		const field = issue.path?.[0]?.key;
		const name = typeof field === 'string' ? field : 'form';
		errors[name] ??= issue.message;
	}
	const values = Object.fromEntries(
		Object.entries(raw).filter(([key]) => !secretFields.includes(key))
	);
	return { ok: false, errors, values };
}

export const Username = v.pipe(
	v.string(),
	v.trim(),
	v.minLength(3, 'Usernames are 3 to 32 characters.'),
	v.maxLength(32, 'Usernames are 3 to 32 characters.'),
	v.regex(/^[A-Za-z0-9_.]+$/, 'Use only letters, digits, "_" and ".".')
);

export const Email = v.pipe(
	v.string(),
	v.trim(),
	v.nonEmpty('Enter your email address.'),
	v.maxLength(254, 'That email address is too long.'),
	v.email('Enter a valid email address.')
);

export const DisplayName = v.pipe(
	v.string(),
	v.trim(),
	v.nonEmpty('Enter a display name.'),
	v.maxLength(64, 'Display names are at most 64 characters.')
);

/** A password being chosen (registration, reset, change); one being checked needs only nonEmpty. */
export const NewPassword = v.pipe(
	v.string(),
	v.minLength(MIN_PASSWORD_LENGTH, `Use at least ${MIN_PASSWORD_LENGTH} characters.`),
	v.maxLength(MAX_PASSWORD_LENGTH, `Use at most ${MAX_PASSWORD_LENGTH} characters.`),
	v.check(
		(password) => !isCommonPassword(password),
		'That password is too common. Choose one that is harder to guess.'
	)
);

/** The secret of an emailed link (see `generateSecretToken`), as the page copied it into its form. */
export const LinkToken = v.pipe(
	v.string(),
	v.regex(/^[a-z2-7]{32}$/, 'This link is incomplete. Open it again from your email.')
);

/** Answers a form post with its errors and the values to show again (status 400). */
export type RejectedForm = { values: Record<string, string>; errors: FieldErrors };

export function rejectForm(
	values: Record<string, string>,
	errors: FieldErrors
): ActionFailure<RejectedForm> {
	return fail(400, { values, errors });
}

/** A count in a URL's query (a page's size): digits, from 1 to `max`, read as a number. */
export function countParam(max: number) {
	return v.pipe(
		v.string(),
		v.regex(/^\d{1,6}$/, 'must be a number'),
		v.transform(Number),
		v.minValue(1),
		v.maxValue(max)
	);
}
