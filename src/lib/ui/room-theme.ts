// Per-chat themes: each member picks an accent and a background for a room, for themselves only.
// Stored as names, not colours, so each choice has a light and a dark variant that keeps text
// readable (the colours are in app.css under [data-room-accent] and [data-room-bg]).

export const ROOM_ACCENTS = {
	indigo: 'Indigo',
	teal: 'Teal',
	rose: 'Rose',
	amber: 'Amber',
	green: 'Green',
	slate: 'Slate'
} as const;

export const ROOM_BACKGROUNDS = {
	paper: 'Paper',
	mist: 'Mist',
	sage: 'Sage',
	dots: 'Dots'
} as const;

export type RoomAccent = keyof typeof ROOM_ACCENTS;
export type RoomBackground = keyof typeof ROOM_BACKGROUNDS;
export type RoomTheme = { accent: RoomAccent | null; background: RoomBackground | null };

export const DEFAULT_ROOM_THEME: RoomTheme = { accent: null, background: null };

function isKey<T extends object>(
	table: T,
	value: string | null
): value is Extract<keyof T, string> {
	return value !== null && Object.hasOwn(table, value);
}

/** What is stored becomes a theme; anything no longer offered falls back to the default. */
export function toRoomTheme(accent: string | null, background: string | null): RoomTheme {
	return {
		accent: isKey(ROOM_ACCENTS, accent) ? accent : null,
		background: isKey(ROOM_BACKGROUNDS, background) ? background : null
	};
}
