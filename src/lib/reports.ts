// What the report dialogs and the report lists show: the reasons a reporter chooses from and what
// was done about a report. The server's reports module checks input against these same lists.

export type Reason = 'spam' | 'harassment' | 'hate' | 'violence' | 'sexual' | 'self_harm' | 'other';

export const REPORT_REASONS: Record<Reason, string> = {
	spam: 'Spam',
	harassment: 'Harassment or bullying',
	hate: 'Hate speech',
	violence: 'Violence or threats',
	sexual: 'Sexual content',
	self_harm: 'Self-harm or suicide',
	other: 'Something else'
};

export type Resolution = 'dismissed' | 'message_deleted' | 'user_suspended';

export const REPORT_RESOLUTIONS: Record<Resolution, string> = {
	dismissed: 'Dismissed',
	message_deleted: 'Message deleted',
	user_suspended: 'Account suspended'
};

/** The longest a report's details (or a resolution's note) may be. */
export const MAX_REPORT_DETAILS = 1000;
