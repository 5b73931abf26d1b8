// Display preferences are per device (a phone and a laptop may want different text sizes), so they
// live in localStorage. `app.html` applies the same attributes before first paint: no flash.

export type Preferences = {
	theme: 'system' | 'light' | 'dark';
	textSize: 'small' | 'default' | 'large' | 'larger';
	motion: 'system' | 'reduce' | 'full';
	contrast: 'system' | 'more';
};

export const PREFERENCE_CHOICES = {
	theme: ['system', 'light', 'dark'],
	textSize: ['small', 'default', 'large', 'larger'],
	motion: ['system', 'reduce', 'full'],
	contrast: ['system', 'more']
} as const satisfies { [K in keyof Preferences]: readonly Preferences[K][] };

export const DEFAULT_PREFERENCES: Preferences = {
	theme: 'system',
	textSize: 'default',
	motion: 'system',
	contrast: 'system'
};

/** The key `app.html`'s inline script reads too. */
export const PREFERENCES_KEY = 'parley.preferences';

function pick<K extends keyof Preferences>(raw: Record<string, unknown>, key: K): Preferences[K] {
	const value = raw[key];
	const choices: readonly string[] = PREFERENCE_CHOICES[key];
	return typeof value === 'string' && choices.includes(value)
		? (value as Preferences[K])
		: DEFAULT_PREFERENCES[key];
}

/** Whatever is stored (nothing, old or hand-edited JSON) becomes valid preferences. */
export function parsePreferences(stored: string | null): Preferences {
	let raw: unknown;
	try {
		raw = stored ? JSON.parse(stored) : null;
	} catch {
		raw = null;
	}
	const record = raw && typeof raw === 'object' ? (raw as Record<string, unknown>) : {};
	return {
		theme: pick(record, 'theme'),
		textSize: pick(record, 'textSize'),
		motion: pick(record, 'motion'),
		contrast: pick(record, 'contrast')
	};
}

/** The attributes on <html> that app.css keys on (`data-theme="dark"` and so on). */
export function preferenceAttributes(preferences: Preferences): Record<string, string> {
	return {
		'data-theme': preferences.theme,
		'data-text-size': preferences.textSize,
		'data-motion': preferences.motion,
		'data-contrast': preferences.contrast
	};
}
