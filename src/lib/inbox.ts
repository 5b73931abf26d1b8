// The notifications inbox, as the browser and the server both name it.

/** What the inbox page's list depends on: invalidate it when the unread count changed elsewhere. */
export const INBOX_DEPENDENCY = 'app:inbox';
