import { describe, expect, it } from 'vitest';
import { getMembership } from '$lib/server/rooms/rooms';
import { setRoomTheme } from '$lib/server/rooms/theme';
import { toRoomTheme } from '$lib/ui/room-theme';
import { db, seedRoom, seedUser } from '../../../helpers';

describe('setRoomTheme', () => {
	it('saves a member’s theme for that room only, leaving other members’ themes alone', async () => {
		const alice = await seedUser('alice');
		const bob = await seedUser('bob');
		const room = await seedRoom(alice, bob);

		expect(await setRoomTheme(db(), room, alice.id, { accent: 'teal', background: 'dots' })).toBe(
			true
		);

		const mine = await getMembership(db(), room, alice.id);
		const theirs = await getMembership(db(), room, bob.id);
		expect(toRoomTheme(mine!.themeAccent, mine!.themeBackground)).toEqual({
			accent: 'teal',
			background: 'dots'
		});
		expect(toRoomTheme(theirs!.themeAccent, theirs!.themeBackground)).toEqual({
			accent: null,
			background: null
		});
	});

	it('returns to the default theme when both choices are cleared', async () => {
		const alice = await seedUser('alice');
		const room = await seedRoom(alice);
		await setRoomTheme(db(), room, alice.id, { accent: 'rose', background: 'paper' });
		await setRoomTheme(db(), room, alice.id, { accent: null, background: null });
		const row = await getMembership(db(), room, alice.id);
		expect([row!.themeAccent, row!.themeBackground]).toEqual([null, null]);
	});

	it('changes nothing for someone who is not a member of the room', async () => {
		const alice = await seedUser('alice');
		const mallory = await seedUser('mallory');
		const room = await seedRoom(alice);
		expect(
			await setRoomTheme(db(), room, mallory.id, { accent: 'amber', background: 'mist' })
		).toBe(false);
		expect(await getMembership(db(), room, mallory.id)).toBeNull();
	});
});

describe('toRoomTheme', () => {
	it('falls back to the default for names that are not offered', () => {
		expect(toRoomTheme('hotpink', 'dots')).toEqual({ accent: null, background: 'dots' });
		expect(toRoomTheme('__proto__', 'constructor')).toEqual({ accent: null, background: null });
	});
});
