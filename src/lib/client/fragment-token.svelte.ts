import { afterNavigate, replaceState } from '$app/navigation';

/**
 * The secret of a mailed link (`…#token=…`), read once the page is running. It travels in the
 * fragment, which browsers never send to servers; it moves into the page's form and out of the
 * address bar, so it isn't left in the history either. Construct it while a component initializes:
 * it reads after the first navigation, not on mount, because the router must be running before the
 * address can be replaced.
 */
export class FragmentToken {
	token = $state('');
	/** Whether the fragment has been read: until then, a page can't tell a missing token. */
	ready = $state(false);

	constructor() {
		afterNavigate(() => {
			const match = /(?:^#|&)token=([a-z2-7]+)/.exec(location.hash);
			if (match) {
				this.token = match[1]!;
				replaceState(location.pathname, {});
			}
			this.ready = true;
		});
	}
}
