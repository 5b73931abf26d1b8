import { endpoint } from '$lib/server/api/endpoint';
import { FriendLists } from '$lib/server/api/people-schemas';
import { listFriends } from '$lib/server/people/friends';

export const GET = endpoint({
	summary: 'My friends and friend requests',
	description:
		'My friends, the requests waiting for my answer (`incoming`) and the ones I sent (`outgoing`), each list in order of display name.',
	tag: 'Friends',
	scope: 'read',
	response: FriendLists,
	handle: async ({ db, user }) => listFriends(db, user.id)
});
