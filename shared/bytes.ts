// A size in bytes as people read it, for the browser and the server alike: a refusal ("larger
// than 25 MB"), a file's chip in the timeline, the room's list of media and files.

/** "25 MB", "1 GB", "512 KB", "1.5 MB", "68 bytes" (powers of 1024). */
export function describeBytes(bytes: number): string {
	const units = ['bytes', 'KB', 'MB', 'GB', 'TB'];
	let value = bytes;
	let unit = 0;
	while (value >= 1024 && unit < units.length - 1) {
		value /= 1024;
		unit++;
	}
	const shown = unit === 0 || Number.isInteger(value) ? String(value) : value.toFixed(1);
	return `${shown} ${units[unit]}`;
}
