// The tab says how much is unread: "(3) Book club · Parley", and a dot on its icon, as the chat apps
// people know do. Pages keep setting their own titles (<svelte:head>); the count rides in front.

const COUNT_PREFIX = /^\(\d+\+?\) /;

/** A page's title with the unread count in front (none at zero; "99+" past 99). */
export function titleWithCount(title: string, count: number): string {
	const bare = title.replace(COUNT_PREFIX, '');
	if (count <= 0) return bare;
	return `(${count > 99 ? '99+' : count}) ${bare}`;
}

/**
 * Shows `count` in the document's title and icon until stopped. A page's own title, set whenever
 * one is navigated to, is given the count again as soon as it is written.
 */
export function badgeTab(doc: Document): { show(count: number): void; stop(): void } {
	let count = 0;
	const icon = doc.querySelector<HTMLLinkElement>('link[rel="icon"]');
	const plainIcon = icon?.href ?? '';
	const apply = () => {
		const title = titleWithCount(doc.title, count);
		if (title !== doc.title) doc.title = title;
		if (icon) {
			const href = count > 0 ? new URL('/favicon-unread.svg', doc.baseURI).href : plainIcon;
			if (icon.href !== href) icon.href = href;
		}
	};
	const observer = new MutationObserver(apply);
	observer.observe(doc.head, { childList: true, subtree: true, characterData: true });
	return {
		show(next) {
			count = next;
			apply();
		},
		stop() {
			observer.disconnect();
			count = 0;
			apply();
		}
	};
}
