/** A short time for lists: "14:05" today, "Yesterday", a weekday this week, else a date. */
export function shortTime(at: number, now: number = Date.now(), locale?: string): string {
	const date = new Date(at);
	const startOf = (t: number) => {
		const d = new Date(t);
		return new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();
	};
	const days = Math.round((startOf(now) - startOf(at)) / 86_400_000);
	if (days <= 0) return date.toLocaleTimeString(locale, { hour: '2-digit', minute: '2-digit' });
	if (days === 1) return 'Yesterday';
	if (days < 7) return date.toLocaleDateString(locale, { weekday: 'short' });
	return date.toLocaleDateString(locale, { day: 'numeric', month: 'short' });
}
