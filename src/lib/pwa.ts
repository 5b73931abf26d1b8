// Names the service worker and the pages share, so that what one writes the other can find and
// clear (signing out empties the person's caches from the page, without waiting for the worker).

/** Pages and their data (`__data.json`) as last fetched, for opening without a network. Personal. */
export const PAGES_CACHE = 'parley-pages';
/** The app shell of one build: `parley-shell-<version>`, replaced whole by the next build's. */
export const SHELL_CACHE_PREFIX = 'parley-shell-';
/** Shown for a navigation while offline when nothing for it is cached. */
export const OFFLINE_PAGE = '/offline.html';
