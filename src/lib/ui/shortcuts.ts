// Keyboard shortcuts of the frame. The room view owns what happens in a room; the frame announces
// "mark this room read" as a DOM event so the room can act on it without importing the frame.

export type ShortcutAction =
	| 'help'
	| 'find'
	| 'search'
	| 'next-room'
	| 'previous-room'
	| 'next-unread'
	| 'previous-unread'
	| 'mark-read';

export type Shortcut = { action: ShortcutAction; keys: string[][]; description: string };

export const SHORTCUTS: readonly Shortcut[] = [
	{
		action: 'find',
		keys: [['Ctrl', 'Shift', 'F'], ['/']],
		description: 'Search messages, people and rooms'
	},
	{ action: 'search', keys: [['Ctrl', 'K']], description: 'Search your conversations' },
	{ action: 'next-room', keys: [['Alt', '↓']], description: 'Next conversation' },
	{ action: 'previous-room', keys: [['Alt', '↑']], description: 'Previous conversation' },
	{ action: 'next-unread', keys: [['Alt', 'Shift', '↓']], description: 'Next unread conversation' },
	{
		action: 'previous-unread',
		keys: [['Alt', 'Shift', '↑']],
		description: 'Previous unread conversation'
	},
	{ action: 'mark-read', keys: [['Shift', 'Esc']], description: 'Mark this conversation read' },
	{ action: 'help', keys: [['?']], description: 'Show keyboard shortcuts' }
];

/** Dispatched on `window` with `{ roomId }` when the reader asks to mark the open room read. */
export const MARK_READ_EVENT = 'parley:mark-read';
export type MarkReadDetail = { roomId: string };

export function requestMarkRead(roomId: string): void {
	window.dispatchEvent(new CustomEvent<MarkReadDetail>(MARK_READ_EVENT, { detail: { roomId } }));
}

/** Dispatched on `window` to open the search box (from controls outside the frame's own). */
export const OPEN_SEARCH_EVENT = 'parley:open-search';

export function requestSearch(): void {
	window.dispatchEvent(new CustomEvent(OPEN_SEARCH_EVENT));
}

export type KeyPress = Pick<KeyboardEvent, 'key' | 'altKey' | 'ctrlKey' | 'metaKey' | 'shiftKey'>;

/**
 * The action for a key press, or null. `typing` is true while focus is in a text field: then the
 * single-character shortcuts ("?", "/") stay ordinary typing.
 */
export function shortcutFor(press: KeyPress, typing: boolean): ShortcutAction | null {
	const { key, altKey, ctrlKey, metaKey, shiftKey } = press;
	if ((ctrlKey || metaKey) && !altKey && key.toLowerCase() === 'k') return 'search';
	if ((ctrlKey || metaKey) && shiftKey && !altKey && key.toLowerCase() === 'f') return 'find';
	if (altKey && !ctrlKey && !metaKey && (key === 'ArrowDown' || key === 'ArrowUp')) {
		const down = key === 'ArrowDown';
		if (shiftKey) return down ? 'next-unread' : 'previous-unread';
		return down ? 'next-room' : 'previous-room';
	}
	if (key === 'Escape' && shiftKey && !altKey && !ctrlKey && !metaKey) return 'mark-read';
	if (typing || altKey || ctrlKey || metaKey) return null;
	if (key === '?') return 'help';
	if (key === '/') return 'find';
	return null;
}

/** The conversation to open from `current` moving by `step`, optionally only among `eligible`. */
export function stepThrough<T extends { id: string }>(
	list: readonly T[],
	currentId: string | null,
	step: 1 | -1,
	eligible: (item: T) => boolean = () => true
): T | null {
	if (list.length === 0) return null;
	const start = list.findIndex((item) => item.id === currentId);
	for (let moved = 1; moved <= list.length; moved++) {
		const index =
			((((start === -1 ? (step === 1 ? -1 : 0) : start) + step * moved) % list.length) +
				list.length) %
			list.length;
		const item = list[index]!;
		if (item.id !== currentId && eligible(item)) return item;
	}
	return null;
}
