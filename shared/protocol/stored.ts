// How mentions and reactions are stored as JSON text, in the room's SQLite and in D1 alike. Read
// defensively: a damaged value reads as empty rather than breaking a whole page of history.
import type { Reactions } from './index';

export function parseMentionList(json: string): string[] {
	if (json === '[]') return [];
	try {
		const value: unknown = JSON.parse(json);
		return Array.isArray(value) ? value.filter((x): x is string => typeof x === 'string') : [];
	} catch {
		return [];
	}
}

export function parseReactionMap(json: string): Reactions {
	const reactions: Reactions = {};
	if (json === '{}') return reactions;
	try {
		const value: unknown = JSON.parse(json);
		if (typeof value !== 'object' || value === null || Array.isArray(value)) return reactions;
		for (const [emoji, ids] of Object.entries(value)) {
			if (!Array.isArray(ids)) continue;
			const list = ids.filter((x): x is string => typeof x === 'string');
			if (list.length > 0) reactions[emoji] = list;
		}
	} catch {
		return {};
	}
	return reactions;
}
