import { describe, expect, it } from 'vitest';
import { detailsHref, sectionIn } from '../../../../src/routes/rooms/[id]/details/sections';

const at = (query: string) => new URL(`https://parley.test/rooms/r1/details${query}`);

describe('the details section a URL shows', () => {
	it('is the tab it names, or the section of the form action it answers', () => {
		expect(sectionIn(at('?tab=members'))).toBe('members');
		expect(sectionIn(at('?tab=media&media_before=1700000000000:abc'))).toBe('media');
		expect(sectionIn(at('?/invite'))).toBe('invites');
		expect(sectionIn(at('?/settings'))).toBe('notifications');
		expect(sectionIn(at(''))).toBeUndefined();
	});

	it('is none for anything else, names of Object included', () => {
		for (const query of ['?tab=nope', '?tab=constructor', '?/constructor', '?/__proto__', '?/']) {
			expect(sectionIn(at(query)), query).toBeUndefined();
		}
	});

	it('is kept in the address the actions redirect to', () => {
		expect(detailsHref('r1', 'invites')).toBe('/rooms/r1/details?tab=invites');
		expect(detailsHref('r1', undefined)).toBe('/rooms/r1/details');
	});
});
