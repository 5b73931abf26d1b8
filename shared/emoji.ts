// A modest built-in emoji table: enough for everyday chat without shipping a full Unicode dataset
// to every page. Shortcodes follow the names people already type elsewhere (`:smile:`, `:+1:`).

export type Emoji = { char: string; names: readonly string[] };
export type EmojiGroup = { label: string; emoji: readonly Emoji[] };

const e = (char: string, ...names: string[]): Emoji => ({ char, names });

export const EMOJI_GROUPS: readonly EmojiGroup[] = [
	{
		label: 'Smileys',
		emoji: [
			e('😀', 'grinning'),
			e('😄', 'smile'),
			e('😁', 'grin'),
			e('😂', 'joy'),
			e('🤣', 'rofl'),
			e('😊', 'blush'),
			e('🙂', 'slightly_smiling_face'),
			e('😉', 'wink'),
			e('😍', 'heart_eyes'),
			e('😘', 'kissing_heart'),
			e('😎', 'sunglasses'),
			e('🤔', 'thinking'),
			e('😐', 'neutral_face'),
			e('🙄', 'roll_eyes'),
			e('😴', 'sleeping'),
			e('😅', 'sweat_smile'),
			e('😢', 'cry'),
			e('😭', 'sob'),
			e('😡', 'rage'),
			e('😱', 'scream'),
			e('🥳', 'partying_face'),
			e('🤯', 'exploding_head'),
			e('😇', 'innocent'),
			e('🙃', 'upside_down_face')
		]
	},
	{
		label: 'People',
		emoji: [
			e('👍', '+1', 'thumbsup'),
			e('👎', '-1', 'thumbsdown'),
			e('👋', 'wave'),
			e('👏', 'clap'),
			e('🙌', 'raised_hands'),
			e('🙏', 'pray'),
			e('💪', 'muscle'),
			e('👀', 'eyes'),
			e('🤝', 'handshake'),
			e('✌️', 'v'),
			e('🤞', 'crossed_fingers'),
			e('👌', 'ok_hand'),
			e('🫡', 'saluting_face'),
			e('🤷', 'shrug')
		]
	},
	{
		label: 'Symbols',
		emoji: [
			e('❤️', 'heart'),
			e('💔', 'broken_heart'),
			e('✨', 'sparkles'),
			e('🔥', 'fire'),
			e('⭐', 'star'),
			e('💯', '100'),
			e('✅', 'white_check_mark'),
			e('❌', 'x'),
			e('⚠️', 'warning'),
			e('❓', 'question'),
			e('❗', 'exclamation'),
			e('💡', 'bulb'),
			e('🎉', 'tada'),
			e('🚀', 'rocket'),
			e('💬', 'speech_balloon'),
			e('📌', 'pushpin')
		]
	},
	{
		label: 'Nature and food',
		emoji: [
			e('☀️', 'sunny'),
			e('🌧️', 'cloud_with_rain'),
			e('🌈', 'rainbow'),
			e('🌱', 'seedling'),
			e('🌸', 'cherry_blossom'),
			e('🐶', 'dog'),
			e('🐱', 'cat'),
			e('🦊', 'fox_face'),
			e('🍕', 'pizza'),
			e('🍔', 'hamburger'),
			e('🍰', 'cake'),
			e('☕', 'coffee'),
			e('🍺', 'beer'),
			e('🍷', 'wine_glass')
		]
	},
	{
		label: 'Activities and things',
		emoji: [
			e('⚽', 'soccer'),
			e('🏀', 'basketball'),
			e('🎮', 'video_game'),
			e('🎵', 'musical_note'),
			e('🎁', 'gift'),
			e('📷', 'camera'),
			e('💻', 'computer'),
			e('📱', 'iphone'),
			e('📅', 'date'),
			e('⏰', 'alarm_clock'),
			e('✈️', 'airplane'),
			e('🏠', 'house'),
			e('🥾', 'hiking_boot'),
			e('⛰️', 'mountain')
		]
	}
];

const byName = new Map<string, string>();
for (const group of EMOJI_GROUPS)
	for (const emoji of group.emoji) {
		for (const name of emoji.names) byName.set(name, emoji.char);
	}

/** The emoji for a shortcode name (without colons), if the table has it. */
export function emojiFor(name: string): string | undefined {
	return byName.get(name);
}

const SHORTCODE = /:([a-z0-9_+-]{1,32}):/g;

/** Replaces the known `:name:` shortcodes in plain text; unknown ones are left as typed. */
export function replaceShortcodes(text: string): string {
	if (!text.includes(':')) return text;
	return text.replace(SHORTCODE, (whole, name: string) => byName.get(name) ?? whole);
}

/** Emoji whose names contain every word of the query, in table order. */
export function searchEmoji(query: string): Emoji[] {
	const words = query
		.toLowerCase()
		.split(/[\s:]+/)
		.filter(Boolean);
	const all = EMOJI_GROUPS.flatMap((group) => group.emoji);
	if (words.length === 0) return all;
	return all.filter((emoji) =>
		words.every((word) => emoji.names.some((name) => name.includes(word)))
	);
}
