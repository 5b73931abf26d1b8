import type { SubmitFunction } from '@sveltejs/kit';
import { toasts } from './toasts.svelte';

/**
 * A `use:enhance` callback for forms whose failures would otherwise go unseen: field errors (a 4xx
 * `fail`) still show in the form, while a server error or a lost connection becomes a toast with a
 * "Try again" button instead of replacing the page with an error screen.
 */
export function toastOnError(what: string): SubmitFunction {
	return ({ formElement, submitter }) =>
		async ({ result, update }) => {
			if (result.type === 'error') {
				// A thrown fetch (offline, connection reset) arrives as an Error; the server's own
				// errors carry a message meant for people.
				const reason =
					result.error instanceof Error
						? 'Check your connection.'
						: errorMessage(result.error) || 'Something went wrong on our side.';
				toasts.error(`${what} failed. ${reason}`, {
					label: 'Try again',
					run: () => formElement.requestSubmit(submitter)
				});
				return;
			}
			await update();
		};
}

function errorMessage(error: unknown): string {
	if (error && typeof error === 'object' && 'message' in error && typeof error.message === 'string')
		return error.message;
	return '';
}
