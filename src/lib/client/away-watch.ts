// Whether this tab's person is here or away: away while the tab is hidden, or when nobody has
// touched it for `AWAY_AFTER_MS`. The room's presence shows it; a change is told to `onChange`.
import { AWAY_AFTER_MS } from '$shared/protocol';

const ACTIVITY = ['pointerdown', 'keydown', 'pointermove', 'focus'] as const;

export class AwayWatch {
	/** As last told (or as it was when the watch started). */
	away = false;
	#onChange: (away: boolean) => void;
	#lastActivityAt = 0;
	#idleTimer: ReturnType<typeof setTimeout> | undefined;

	constructor(onChange: (away: boolean) => void) {
		this.#onChange = onChange;
	}

	start(): void {
		document.addEventListener('visibilitychange', this.#onActivity);
		for (const event of ACTIVITY) {
			window.addEventListener(event, this.#onActivity, { passive: true });
		}
		this.#lastActivityAt = Date.now();
		this.away = document.visibilityState === 'hidden';
		this.#armIdleTimer();
	}

	stop(): void {
		document.removeEventListener('visibilitychange', this.#onActivity);
		for (const event of ACTIVITY) window.removeEventListener(event, this.#onActivity);
		clearTimeout(this.#idleTimer);
	}

	#onActivity = (event: Event): void => {
		if (event.type !== 'visibilitychange') {
			const now = Date.now();
			// Pointer moves come by the hundred: re-arm the idle timer at most once a second.
			if (now - this.#lastActivityAt < 1000 && !this.away) return;
			this.#lastActivityAt = now;
			this.#armIdleTimer();
		}
		this.#update();
	};

	#armIdleTimer(): void {
		clearTimeout(this.#idleTimer);
		this.#idleTimer = setTimeout(() => this.#update(), AWAY_AFTER_MS);
	}

	#update(): void {
		const away =
			document.visibilityState === 'hidden' || Date.now() - this.#lastActivityAt >= AWAY_AFTER_MS;
		if (away === this.away) return;
		this.away = away;
		this.#onChange(away);
	}
}
