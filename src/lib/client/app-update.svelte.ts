// A new build's service worker waits until the person chooses to use it: every open tab keeps
// running the build it loaded (its code and the worker's precached shell agree), and the page offers
// "reload" instead of swapping code under someone typing a message.

/** How often a long-lived tab asks for a newer worker (a full page load also does). */
const CHECK_EVERY_MS = 60 * 60 * 1000;

class AppUpdate {
	/** The installed worker of a newer build, waiting for the open tabs to let it take over. */
	waiting = $state<ServiceWorker | null>(null);

	/**
	 * Watches for a newer worker while the page is open: one already waiting, one that finishes
	 * installing, and a check whenever the tab comes back into view. Returns the stop function.
	 */
	start(): () => void {
		if (!('serviceWorker' in navigator)) return () => {};
		let stopped = false;
		let registration: ServiceWorkerRegistration | null = null;
		const offer = (worker: ServiceWorker | null) => {
			// With no controller this is the first install, not an update: nothing to reload for.
			if (!stopped && worker && navigator.serviceWorker.controller) this.waiting = worker;
		};
		const found = () => {
			const installing = registration?.installing;
			installing?.addEventListener('statechange', () => {
				if (installing.state === 'installed') offer(installing);
			});
		};
		const check = () => void registration?.update().catch(() => {});
		const visible = () => {
			if (document.visibilityState === 'visible') check();
		};
		void navigator.serviceWorker.ready.then((ready) => {
			if (stopped) return;
			registration = ready;
			offer(ready.waiting);
			ready.addEventListener('updatefound', found);
		});
		document.addEventListener('visibilitychange', visible);
		const timer = setInterval(check, CHECK_EVERY_MS);
		return () => {
			stopped = true;
			registration?.removeEventListener('updatefound', found);
			document.removeEventListener('visibilitychange', visible);
			clearInterval(timer);
		};
	}

	/** Lets the waiting worker take over, then reloads into its build once it controls the page. */
	apply(): void {
		const worker = this.waiting;
		if (!worker) return;
		navigator.serviceWorker.addEventListener('controllerchange', () => location.reload(), {
			once: true
		});
		worker.postMessage({ type: 'skip-waiting' });
	}
}

/** The tab's one watcher of app updates. */
export const appUpdate = new AppUpdate();
