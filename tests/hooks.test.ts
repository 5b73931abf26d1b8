// What the server's error hook writes to the log: a server fault, not every path nobody serves.
import type { RequestEvent } from '@sveltejs/kit';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { handleError } from '../src/hooks.server';

function eventFor(path: string, method = 'GET'): RequestEvent {
	const url = new URL(path, 'https://parley.test');
	return { url, request: new Request(url, { method }) } as RequestEvent;
}

describe('the server error hook', () => {
	afterEach(() => vi.restoreAllMocks());

	it('logs nothing for a path no route serves or a method a route lacks', async () => {
		const log = vi.spyOn(console, 'error').mockImplementation(() => {});
		for (const [path, method, status] of [
			['/apple-touch-icon.png', 'GET', 404],
			['/login', 'PUT', 405]
		] as const) {
			const error = new Error(`Not found: ${path}`);
			expect(
				await handleError({ error, event: eventFor(path, method), status, message: 'Not Found' })
			).toBeUndefined();
		}
		expect(log).not.toHaveBeenCalled();
	});

	it('logs a server fault with its request and the error itself', async () => {
		const log = vi.spyOn(console, 'error').mockImplementation(() => {});
		const error = new Error('D1 went away');
		await handleError({
			error,
			event: eventFor('/rooms/r1'),
			status: 500,
			message: 'Internal Error'
		});
		expect(log).toHaveBeenCalledExactlyOnceWith('[500] GET /rooms/r1', error);
	});
});
