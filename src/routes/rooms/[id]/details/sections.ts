// The sections of the room details page, and which one a URL shows. The page keeps the open
// section in `?tab=`, and every form action answers with a redirect to its own section, so a
// reload after adding a member, revoking a link or saving settings lands where the form was.

export const SECTION_LABELS = {
	about: 'About',
	members: 'Members',
	encryption: 'Encryption',
	invites: 'Invites',
	bots: 'Bots',
	reports: 'Reports',
	media: 'Media and files',
	notifications: 'Notifications',
	theme: 'Theme'
} as const;

export type Section = keyof typeof SECTION_LABELS;

/** The section each form action belongs to (the action names of `+page.server.ts`). */
const ACTION_SECTIONS: Record<string, Section> = {
	update: 'about',
	leave: 'about',
	delete: 'about',
	add: 'members',
	remove: 'members',
	timeOut: 'members',
	endTimeOut: 'members',
	slowMode: 'about',
	retention: 'about',
	ban: 'members',
	unban: 'members',
	promote: 'members',
	demote: 'members',
	transfer: 'members',
	invite: 'invites',
	revoke: 'invites',
	addBot: 'bots',
	removeBot: 'bots',
	botWebhook: 'bots',
	deleteBotWebhook: 'bots',
	botToken: 'bots',
	revokeBotToken: 'bots',
	botOutgoing: 'bots',
	deleteBotOutgoing: 'bots',
	resolveReport: 'reports',
	deleteReportedMessage: 'reports',
	settings: 'notifications',
	encrypt: 'encryption'
};

function isSection(value: string | null | undefined): value is Section {
	return value != null && Object.hasOwn(SECTION_LABELS, value);
}

/**
 * The section a details URL asks for: its `?tab=`, else the section of the form action it names
 * (`?/invite`: without JavaScript, an action's answer is shown at the action's own URL).
 */
export function sectionIn(url: URL): Section | undefined {
	const tab = url.searchParams.get('tab');
	if (isSection(tab)) return tab;
	const action = [...url.searchParams.keys()].find((key) => key.startsWith('/'))?.slice(1);
	// Own keys only: `?/constructor` must not find Object's.
	return action !== undefined && Object.hasOwn(ACTION_SECTIONS, action)
		? ACTION_SECTIONS[action]
		: undefined;
}

export function detailsHref(roomId: string, section: Section | undefined): string {
	return section ? `/rooms/${roomId}/details?tab=${section}` : `/rooms/${roomId}/details`;
}
