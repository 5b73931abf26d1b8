import { describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { userTokens } from '$shared/db/schema';
import { consumeEmailToken, issueEmailToken } from '$lib/server/auth/email-tokens';
import { hashSecret } from '$lib/server/ids';
import { db, registerPerson } from '../../../support/accounts';

const HOUR = 60 * 60 * 1000;

describe('emailed tokens', () => {
	it('are stored only as their SHA-256, never as the secret itself', async () => {
		const alice = await registerPerson('alice');
		const token = await issueEmailToken(db(), {
			userId: alice.id,
			purpose: 'verify_email',
			email: alice.email
		});
		const rows = await db().select().from(userTokens).where(eq(userTokens.userId, alice.id));
		expect(rows).toHaveLength(1);
		expect(rows[0]!.id).toBe(hashSecret(token));
		expect(JSON.stringify(rows)).not.toContain(token);
	});

	it('work once: a second use of the same link is refused', async () => {
		const alice = await registerPerson('alice');
		const token = await issueEmailToken(db(), {
			userId: alice.id,
			purpose: 'reset_password',
			email: alice.email
		});
		expect(await consumeEmailToken(db(), token, ['reset_password'])).toMatchObject({
			userId: alice.id,
			email: alice.email
		});
		expect(await consumeEmailToken(db(), token, ['reset_password'])).toBeNull();
	});

	it('cannot be spent twice even by two requests racing each other', async () => {
		const alice = await registerPerson('alice');
		const token = await issueEmailToken(db(), {
			userId: alice.id,
			purpose: 'reset_password',
			email: alice.email
		});
		const results = await Promise.all(
			Array.from({ length: 5 }, () => consumeEmailToken(db(), token, ['reset_password']))
		);
		expect(results.filter((r) => r !== null)).toHaveLength(1);
	});

	it('expire: a reset link after an hour, a verification link after a day', async () => {
		const alice = await registerPerson('alice');
		const now = Date.now();
		const reset = (issuedAgo: number) =>
			issueEmailToken(
				db(),
				{ userId: alice.id, purpose: 'reset_password', email: alice.email },
				now - issuedAgo
			);
		expect(await consumeEmailToken(db(), await reset(HOUR + 1000), ['reset_password'])).toBeNull();
		expect(
			await consumeEmailToken(db(), await reset(HOUR - 60_000), ['reset_password'])
		).not.toBeNull();

		const verify = (issuedAgo: number) =>
			issueEmailToken(
				db(),
				{ userId: alice.id, purpose: 'verify_email', email: alice.email },
				now - issuedAgo
			);
		expect(
			await consumeEmailToken(db(), await verify(24 * HOUR + 1000), ['verify_email'])
		).toBeNull();
		expect(await consumeEmailToken(db(), await verify(23 * HOUR), ['verify_email'])).not.toBeNull();
	});

	it('only do what they were issued for: a verification link cannot reset a password', async () => {
		const alice = await registerPerson('alice');
		const token = await issueEmailToken(db(), {
			userId: alice.id,
			purpose: 'verify_email',
			email: alice.email
		});
		expect(await consumeEmailToken(db(), token, ['reset_password'])).toBeNull();
		expect(await consumeEmailToken(db(), token, ['verify_email'])).not.toBeNull();
	});

	it('replace each other: only the newest link of a kind still works', async () => {
		const alice = await registerPerson('alice');
		const issue = () =>
			issueEmailToken(db(), { userId: alice.id, purpose: 'reset_password', email: alice.email });
		const older = await issue();
		const newer = await issue();
		expect(await consumeEmailToken(db(), older, ['reset_password'])).toBeNull();
		expect(await consumeEmailToken(db(), newer, ['reset_password'])).not.toBeNull();
	});
});
