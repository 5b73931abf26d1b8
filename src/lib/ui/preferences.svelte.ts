import {
	DEFAULT_PREFERENCES,
	PREFERENCES_KEY,
	parsePreferences,
	preferenceAttributes,
	type Preferences
} from './preferences';

/** This device's display preferences, kept in sync across its open tabs. */
class PreferenceStore {
	#value = $state<Preferences>({ ...DEFAULT_PREFERENCES });
	#loaded = false;

	get current(): Preferences {
		return this.#value;
	}

	/** Call once in the browser (the root layout does). */
	load(): void {
		if (this.#loaded) return;
		this.#loaded = true;
		this.#value = parsePreferences(localStorage.getItem(PREFERENCES_KEY));
		this.#apply();
		window.addEventListener('storage', (event) => {
			if (event.key !== PREFERENCES_KEY) return;
			this.#value = parsePreferences(event.newValue);
			this.#apply();
		});
	}

	set<K extends keyof Preferences>(key: K, value: Preferences[K]): void {
		this.#value = { ...this.#value, [key]: value };
		try {
			localStorage.setItem(PREFERENCES_KEY, JSON.stringify(this.#value));
		} catch {
			// Storage can be full or blocked (private modes): the choice still applies to this tab.
		}
		this.#apply();
	}

	#apply(): void {
		const root = document.documentElement;
		for (const [name, value] of Object.entries(preferenceAttributes(this.#value))) {
			root.setAttribute(name, value);
		}
	}
}

export const preferences = new PreferenceStore();

/** A transition duration, or 0 when the reader prefers reduced motion (setting or system). */
export function motionMs(ms: number): number {
	if (typeof document === 'undefined') return ms;
	const setting = document.documentElement.dataset.motion;
	if (setting === 'reduce') return 0;
	if (setting === 'full') return ms;
	return matchMedia('(prefers-reduced-motion: reduce)').matches ? 0 : ms;
}
