import type { ConversationSummary } from '$lib/conversations';

export type ConversationFilter = 'all' | 'unread' | 'direct' | 'groups' | 'archived';

export const FILTER_LABELS: Record<ConversationFilter, string> = {
	all: 'All',
	unread: 'Unread',
	direct: 'People',
	groups: 'Groups',
	archived: 'Archived'
};

function fold(text: string): string {
	return text.normalize('NFD').replace(/\p{M}/gu, '').toLocaleLowerCase();
}

function matchesQuery(conversation: ConversationSummary, words: string[]): boolean {
	const haystack = fold(
		[
			conversation.name,
			conversation.peer?.username ?? '',
			conversation.peer?.displayName ?? ''
		].join(' ')
	);
	return words.every((word) => haystack.includes(word));
}

function matchesFilter(conversation: ConversationSummary, filter: ConversationFilter): boolean {
	if (filter === 'archived') return conversation.archived;
	if (conversation.archived) return false;
	if (filter === 'unread') return conversation.unread > 0;
	if (filter === 'direct') return conversation.kind === 'direct';
	if (filter === 'groups') return conversation.kind !== 'direct';
	return true;
}

/**
 * The sidebar's rows for a search and a filter: archived conversations only under "Archived",
 * pinned ones first, otherwise in the server's order (most recent first).
 */
export function filterConversations(
	conversations: readonly ConversationSummary[],
	query: string,
	filter: ConversationFilter
): ConversationSummary[] {
	const words = fold(query).split(/\s+/).filter(Boolean);
	const shown = conversations.filter(
		(conversation) => matchesFilter(conversation, filter) && matchesQuery(conversation, words)
	);
	return [...shown.filter((c) => c.pinned), ...shown.filter((c) => !c.pinned)];
}

/** The filters worth offering: "Archived" only once something is archived. */
export function availableFilters(
	conversations: readonly ConversationSummary[]
): ConversationFilter[] {
	const filters: ConversationFilter[] = ['all', 'unread', 'direct', 'groups'];
	if (conversations.some((c) => c.archived)) filters.push('archived');
	return filters;
}
