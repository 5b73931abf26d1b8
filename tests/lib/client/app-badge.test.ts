import { describe, expect, it } from 'vitest';
import { unreadConversations } from '$lib/client/app-badge';

describe('unreadConversations', () => {
	it('counts conversations with something unread, however much, and leaves muted ones out', () => {
		expect(
			unreadConversations([
				{ unread: 12, notify: 'all' },
				{ unread: 1, notify: 'mentions' },
				{ unread: 0, notify: 'all' },
				{ unread: 5, notify: 'mute' }
			])
		).toBe(2);
		expect(unreadConversations([])).toBe(0);
	});
});
