export type ToastTone = 'error' | 'info' | 'success';
export type Toast = {
	id: number;
	message: string;
	tone: ToastTone;
	action?: { label: string; run: () => void };
};

const DISMISS_AFTER_MS: Record<ToastTone, number> = { error: 8000, info: 5000, success: 4000 };
const MAX_TOASTS = 4;

/** Short messages about actions that failed (or finished) away from where the person is looking. */
class Toasts {
	#items = $state<Toast[]>([]);
	#next = 1;

	get items(): readonly Toast[] {
		return this.#items;
	}

	show(message: string, tone: ToastTone = 'info', action?: Toast['action']): number {
		const id = this.#next++;
		this.#items = [...this.#items.slice(-(MAX_TOASTS - 1)), { id, message, tone, action }];
		// A toast that offers an action stays until used or dismissed: people need time to act.
		if (!action) setTimeout(() => this.dismiss(id), DISMISS_AFTER_MS[tone]);
		return id;
	}

	error(message: string, action?: Toast['action']): number {
		return this.show(message, 'error', action);
	}

	dismiss(id: number): void {
		this.#items = this.#items.filter((toast) => toast.id !== id);
	}
}

export const toasts = new Toasts();
