import { describe, expect, it } from 'vitest';
import { env } from 'cloudflare:workers';
import { eq } from 'drizzle-orm';
import { users } from '$shared/db/schema';
import { SEARCH_LIMIT, searchPeople, searchPeopleQuery } from '$lib/server/people/people';
import { db } from '../../../helpers';
import { seedPerson } from '../../../support/people';

/** What SQLite plans to do for the search, one line per step. */
async function planFor(userId: string, q: string): Promise<string[]> {
	const { sql, params } = searchPeopleQuery(db(), userId, q, SEARCH_LIMIT).toSQL();
	const { results } = await env.DB.prepare(`EXPLAIN QUERY PLAN ${sql}`)
		.bind(...params)
		.all<{ detail: string }>();
	return results.map((row) => row.detail);
}

describe('the people search', () => {
	it('finds display names by prefix through their index, never scanning every user', async () => {
		const me = await seedPerson('me');
		const plan = await planFor(me.id, 'gard');
		expect(plan.join('\n')).toMatch(/SEARCH users USING INDEX users_display_name_lower_idx/);
		expect(plan.join('\n')).toMatch(
			/SEARCH users USING (COVERING )?INDEX users_username_key_unique/
		);
		expect(plan.filter((step) => /^SCAN users\b/.test(step))).toEqual([]);
	});

	it('matches display names whatever follows the prefix, an emoji included', async () => {
		const me = await seedPerson('me');
		const tag = Date.now().toString(36);
		const rosie = await seedPerson('rosie');
		await db()
			.update(users)
			.set({ displayName: `Zz${tag}😀 Cotton` })
			.where(eq(users.id, rosie.id));
		const found = await searchPeople(db(), me.id, `ZZ${tag}`);
		expect(found.map((p) => p.id)).toEqual([rosie.id]);
		expect(await searchPeople(db(), me.id, `zz${tag}😀 c`)).toHaveLength(1);
		expect(await searchPeople(db(), me.id, `zz${tag}x`)).toEqual([]);
	});
});
