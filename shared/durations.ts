// A span of time in words, for the room's refusals and the pages alike.

/**
 * A wait in words, rounded up: "12 seconds", "5 minutes" (up to two hours), "3 hours" (up to two
 * days), "4 days".
 */
export function describeWait(ms: number): string {
	const seconds = Math.max(1, Math.ceil(ms / 1000));
	if (seconds < 60) return plural(seconds, 'second');
	if (ms < 2 * 3_600_000) return plural(Math.ceil(ms / 60_000), 'minute');
	if (ms < 2 * 86_400_000) return plural(Math.ceil(ms / 3_600_000), 'hour');
	return plural(Math.ceil(ms / 86_400_000), 'day');
}

function plural(count: number, unit: string): string {
	return `${count} ${unit}${count === 1 ? '' : 's'}`;
}

/** A setting's length exactly, in the largest unit it is a whole number of: "1 week", "30 days". */
export function describeDuration(ms: number): string {
	const units: [number, string][] = [
		[365 * 86_400_000, 'year'],
		[7 * 86_400_000, 'week'],
		[86_400_000, 'day'],
		[3_600_000, 'hour'],
		[60_000, 'minute']
	];
	for (const [size, name] of units) {
		if (ms >= size && ms % size === 0) return plural(ms / size, name);
	}
	return plural(Math.max(1, Math.round(ms / 1000)), 'second');
}
