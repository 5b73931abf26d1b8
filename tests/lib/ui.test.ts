import { describe, expect, it } from 'vitest';
import type { ConversationSummary } from '$lib/conversations';
import { availableFilters, filterConversations } from '$lib/ui/conversation-filter';
import { avatarColour, initials } from '$lib/ui/avatar';
import { parsePreferences, DEFAULT_PREFERENCES } from '$lib/ui/preferences';
import { shortcutFor, stepThrough } from '$lib/ui/shortcuts';
import { replaceShortcodes, searchEmoji } from '$shared/emoji';

const convo = (id: string, extra: Partial<ConversationSummary> = {}): ConversationSummary => ({
	id,
	kind: 'group',
	name: id,
	peer: null,
	lastMessageAt: null,
	activeAt: 0,
	lastMessagePreview: '',
	lastMessageSeq: 0,
	unread: 0,
	pinned: false,
	archived: false,
	notify: 'all',
	encrypted: false,
	...extra
});

describe('filterConversations', () => {
	const list = [
		convo('Weekend plans', { unread: 2 }),
		convo('dm', {
			kind: 'direct',
			name: 'Zoë Adams',
			peer: { id: 'z', username: 'zoe_a', displayName: 'Zoë Adams' }
		}),
		convo('Book club', { pinned: true }),
		convo('Old stuff', { archived: true, unread: 5 })
	];
	const names = (found: ConversationSummary[]) => found.map((c) => c.name);

	it('puts pinned conversations first and hides archived ones', () => {
		expect(names(filterConversations(list, '', 'all'))).toEqual([
			'Book club',
			'Weekend plans',
			'Zoë Adams'
		]);
	});
	it('matches names and usernames, ignoring case and accents', () => {
		expect(names(filterConversations(list, 'zoe', 'all'))).toEqual(['Zoë Adams']);
		expect(names(filterConversations(list, 'ZOE_A', 'all'))).toEqual(['Zoë Adams']);
		expect(names(filterConversations(list, 'weekend pl', 'all'))).toEqual(['Weekend plans']);
		expect(filterConversations(list, 'nothing like this', 'all')).toEqual([]);
	});
	it('filters by unread, people, groups and archived', () => {
		expect(names(filterConversations(list, '', 'unread'))).toEqual(['Weekend plans']);
		expect(names(filterConversations(list, '', 'direct'))).toEqual(['Zoë Adams']);
		expect(names(filterConversations(list, '', 'groups'))).toEqual(['Book club', 'Weekend plans']);
		expect(names(filterConversations(list, '', 'archived'))).toEqual(['Old stuff']);
	});
	it('offers "Archived" only once something is archived', () => {
		expect(availableFilters(list)).toContain('archived');
		expect(availableFilters(list.slice(0, 3))).not.toContain('archived');
	});
});

describe('avatars', () => {
	it('uses the initials of the first two words', () => {
		expect(initials('Ada Lovelace King')).toBe('AL');
		expect(initials('bob')).toBe('B');
		expect(initials('zoë_adams')).toBe('ZA');
		expect(initials('  ')).toBe('?');
	});
	it('gives a person the same colour every time, and different people different colours', () => {
		expect(avatarColour('alice')).toBe(avatarColour('alice'));
		const colours = new Set(['alice', 'bob', 'carol', 'dave', 'erin', 'frank'].map(avatarColour));
		expect(colours.size).toBeGreaterThan(3);
	});
});

describe('parsePreferences', () => {
	it('reads what was stored and falls back to defaults for anything else', () => {
		expect(parsePreferences('{"theme":"dark","textSize":"large"}')).toEqual({
			...DEFAULT_PREFERENCES,
			theme: 'dark',
			textSize: 'large'
		});
		expect(parsePreferences('{"theme":"neon","motion":42}')).toEqual(DEFAULT_PREFERENCES);
		expect(parsePreferences('not json')).toEqual(DEFAULT_PREFERENCES);
		expect(parsePreferences('null')).toEqual(DEFAULT_PREFERENCES);
		expect(parsePreferences(null)).toEqual(DEFAULT_PREFERENCES);
	});
});

describe('shortcuts', () => {
	const press = (
		key: string,
		mods: Partial<Record<'altKey' | 'ctrlKey' | 'metaKey' | 'shiftKey', boolean>> = {}
	) => ({
		key,
		altKey: false,
		ctrlKey: false,
		metaKey: false,
		shiftKey: false,
		...mods
	});
	it('maps keys to actions', () => {
		expect(shortcutFor(press('k', { ctrlKey: true }), true)).toBe('search');
		expect(shortcutFor(press('K', { metaKey: true }), false)).toBe('search');
		expect(shortcutFor(press('F', { ctrlKey: true, shiftKey: true }), true)).toBe('find');
		expect(shortcutFor(press('F', { metaKey: true, shiftKey: true }), false)).toBe('find');
		expect(shortcutFor(press('f', { ctrlKey: true }), false)).toBeNull();
		expect(shortcutFor(press('/'), false)).toBe('find');
		expect(shortcutFor(press('ArrowDown', { altKey: true }), true)).toBe('next-room');
		expect(shortcutFor(press('ArrowUp', { altKey: true, shiftKey: true }), false)).toBe(
			'previous-unread'
		);
		expect(shortcutFor(press('Escape', { shiftKey: true }), true)).toBe('mark-read');
		expect(shortcutFor(press('?', { shiftKey: true }), false)).toBe('help');
	});
	it('leaves "?" and "/" alone while typing, and plain keys alone always', () => {
		expect(shortcutFor(press('?', { shiftKey: true }), true)).toBeNull();
		expect(shortcutFor(press('/'), true)).toBeNull();
		expect(shortcutFor(press('a'), false)).toBeNull();
		expect(shortcutFor(press('Escape'), false)).toBeNull();
	});
	it('steps through conversations, wrapping around, optionally only unread ones', () => {
		const list = [{ id: 'a' }, { id: 'b', unread: true }, { id: 'c' }];
		expect(stepThrough(list, 'a', 1)?.id).toBe('b');
		expect(stepThrough(list, 'a', -1)?.id).toBe('c');
		expect(stepThrough(list, null, 1)?.id).toBe('a');
		expect(stepThrough(list, null, -1)?.id).toBe('c');
		expect(stepThrough(list, 'c', 1, (item) => 'unread' in item)?.id).toBe('b');
		expect(stepThrough(list, 'b', 1, (item) => 'unread' in item)).toBeNull();
	});
});

describe('emoji', () => {
	it('replaces known shortcodes and keeps unknown ones', () => {
		expect(replaceShortcodes('hi :wave: :smile::+1: :nope: 10:30')).toBe('hi 👋 😄👍 :nope: 10:30');
	});
	it('finds emoji by any part of their names', () => {
		expect(searchEmoji('thumb').map((e) => e.char)).toEqual(['👍', '👎']);
		expect(searchEmoji('').length).toBeGreaterThan(50);
	});
});
