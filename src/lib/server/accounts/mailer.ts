import * as v from 'valibot';
import { isProduction } from '$lib/server/app-env';
import type { Db } from '$lib/server/db';
import { mailOutbox } from '$shared/db/schema';

export type Mail = { to: string; subject: string; text: string };

export interface Mailer {
	send(mail: Mail): Promise<void>;
}

const RESEND_ENDPOINT = 'https://api.resend.com/emails';

/** Optional settings: secrets are not declared in wrangler.toml, so they are read and checked here. */
const MailEnv = v.object({
	RESEND_API_KEY: v.optional(v.string()),
	MAIL_FROM: v.optional(v.string()),
	MAIL_API_URL: v.optional(v.pipe(v.string(), v.url()))
});

/** Production sends through the HTTP API; everywhere else mail lands in the local outbox. */
export function getMailer(env: Env, db: Db): Mailer {
	if (!isProduction(env)) return createOutboxMailer(db);
	const config = v.parse(MailEnv, env);
	if (!config.RESEND_API_KEY || !config.MAIL_FROM) {
		throw new Error('Production mail needs the RESEND_API_KEY secret and the MAIL_FROM variable.');
	}
	return createHttpMailer({
		apiKey: config.RESEND_API_KEY,
		from: config.MAIL_FROM,
		endpoint: config.MAIL_API_URL ?? RESEND_ENDPOINT
	});
}

/**
 * Development: keeps every message in local D1 (read at /dev/mail) and prints it for whoever runs
 * the server. This is the only place links with tokens are printed, and it never runs in production.
 */
export function createOutboxMailer(db: Db): Mailer {
	return {
		async send(mail) {
			await db.insert(mailOutbox).values({
				toAddress: mail.to,
				subject: mail.subject,
				bodyText: mail.text,
				createdAt: Date.now()
			});
			console.log(`[mail] To: ${mail.to}\nSubject: ${mail.subject}\n\n${mail.text}\n`);
		}
	};
}

const ResendAnswer = v.object({ id: v.string() });

/** Resend's HTTP API (https://resend.com/docs/api-reference/emails/send-email). */
export function createHttpMailer(config: {
	apiKey: string;
	from: string;
	endpoint: string;
}): Mailer {
	return {
		async send(mail) {
			const response = await fetch(config.endpoint, {
				method: 'POST',
				headers: {
					authorization: `Bearer ${config.apiKey}`,
					'content-type': 'application/json'
				},
				body: JSON.stringify({
					from: config.from,
					to: [mail.to],
					subject: mail.subject,
					text: mail.text
				})
			});
			// The body of an error answer may echo the message; only the status is worth keeping.
			const body: unknown = await response.json().catch(() => null);
			if (!response.ok || !v.is(ResendAnswer, body)) {
				throw new Error(`The mail API refused the message (HTTP ${response.status}).`);
			}
		}
	};
}
