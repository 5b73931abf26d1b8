const clocks = new Map<string | undefined, Intl.DateTimeFormat>();

/**
 * A clock time as the reader's locale writes it, in their time zone: "9:05 PM" where the clock has
 * 12 hours (no leading zero, as people write it there), "09:05" and "21:05" where it has 24. One
 * formatter per locale, as a timeline formats hundreds.
 */
export function clockTime(at: number, locale?: string): string {
	let clock = clocks.get(locale);
	if (!clock) {
		const { hourCycle } = new Intl.DateTimeFormat(locale, { hour: 'numeric' }).resolvedOptions();
		const twelve = hourCycle === 'h11' || hourCycle === 'h12';
		clock = new Intl.DateTimeFormat(locale, {
			hour: twelve ? 'numeric' : '2-digit',
			minute: '2-digit'
		});
		clocks.set(locale, clock);
	}
	return clock.format(at);
}

/** A short time for lists: "14:05" today, "Yesterday", a weekday this week, else a date. */
export function shortTime(at: number, now: number = Date.now(), locale?: string): string {
	const date = new Date(at);
	const startOf = (t: number) => {
		const d = new Date(t);
		return new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();
	};
	const days = Math.round((startOf(now) - startOf(at)) / 86_400_000);
	if (days <= 0) return clockTime(at, locale);
	if (days === 1) return 'Yesterday';
	if (days < 7) return date.toLocaleDateString(locale, { weekday: 'short' });
	return date.toLocaleDateString(locale, { day: 'numeric', month: 'short' });
}
