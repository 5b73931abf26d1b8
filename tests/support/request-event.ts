// Drives SvelteKit route modules (form actions, `+server.ts` handlers, loads) inside workerd the
// way the framework would: one request event per call, with a browser-like cookie jar between them.
import {
	isActionFailure,
	isHttpError,
	isRedirect,
	type Cookies,
	type RequestEvent
} from '@sveltejs/kit';
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { env as workerEnv } from 'cloudflare:workers';
import { getDb } from '$lib/server/db';
import { SESSION_COOKIE, validateSessionToken } from '$lib/server/auth/session';

const ORIGIN = 'https://parley.test';

type StoredCookie = {
	value: string;
	path: string;
	httpOnly: boolean;
	secure: boolean;
	sameSite: string;
};

/** Cookies as a browser keeps them: scoped by path, removed by `delete` or an expired `maxAge`. */
export class CookieJar {
	readonly cookies = new Map<string, StoredCookie>();

	/** The `Cookies` object SvelteKit hands a request for `url`. */
	for(url: URL): Cookies {
		const inScope = (path: string) =>
			path === '/' || url.pathname === path || url.pathname.startsWith(`${path}/`);
		const visible = () => [...this.cookies].filter(([, c]) => inScope(c.path));
		return {
			get: (name) => visible().find(([n]) => n === name)?.[1].value,
			getAll: () => visible().map(([name, c]) => ({ name, value: c.value })),
			set: (name, value, opts) => {
				if (opts.maxAge === 0 || (opts.expires && opts.expires.getTime() <= Date.now())) {
					this.cookies.delete(name);
					return;
				}
				this.cookies.set(name, {
					value,
					path: opts.path,
					httpOnly: opts.httpOnly ?? true,
					secure: opts.secure ?? true,
					sameSite: String(opts.sameSite ?? 'lax')
				});
			},
			delete: (name) => {
				this.cookies.delete(name);
			},
			serialize: (name, value) => `${name}=${encodeURIComponent(value)}`
		};
	}

	get(name: string): string | undefined {
		return this.cookies.get(name)?.value;
	}
}

function asRecord(value: unknown): Record<string, unknown> {
	return typeof value === 'object' && value !== null
		? Object.fromEntries(Object.entries(value))
		: {};
}

export type Outcome =
	| { kind: 'redirect'; status: number; location: string }
	| { kind: 'error'; status: number; message: string }
	| { kind: 'failure'; status: number; data: Record<string, unknown> }
	| { kind: 'data'; data: unknown }
	| { kind: 'response'; response: Response };

export type Call = {
	path: string;
	method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
	form?: Record<string, string>;
	/** A JSON body (`application/json`) for endpoints that take one; a string is sent as it is. */
	json?: unknown;
	/** Raw bytes (a file's), sent as they are. */
	raw?: Uint8Array<ArrayBuffer>;
	params?: Record<string, string>;
	headers?: Record<string, string>;
	env?: Record<string, unknown>;
	cf?: { country?: string };
};

/** One browser: its cookie jar, and the headers the last response set. */
export class TestBrowser {
	jar = new CookieJar();
	responseHeaders: Record<string, string> = {};
	constructor(public env: Record<string, unknown> = { ...workerEnv, APP_ENV: 'development' }) {}

	/** Runs a handler as the framework would and reports what the browser would get. */
	async call<E extends RequestEvent>(handler: (event: E) => unknown, call: Call): Promise<Outcome> {
		const event = await this.event(call);
		this.responseHeaders = {};
		try {
			// The generated route types narrow params and route id; the event built here has them all.
			const out = await handler(event as E);
			await waitOnExecutionContext(event.platform!.ctx);
			if (out instanceof Response) return { kind: 'response', response: out };
			if (isActionFailure(out)) {
				return { kind: 'failure', status: out.status, data: asRecord(out.data) };
			}
			return { kind: 'data', data: out };
		} catch (e) {
			await waitOnExecutionContext(event.platform!.ctx);
			if (isRedirect(e)) return { kind: 'redirect', status: e.status, location: e.location };
			if (isHttpError(e)) return { kind: 'error', status: e.status, message: e.body.message };
			throw e;
		}
	}

	private async event(call: Call): Promise<RequestEvent> {
		const url = new URL(call.path, ORIGIN);
		const headers = new Headers({
			'user-agent':
				'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
			...call.headers
		});
		const method =
			call.method ?? (call.form || call.json !== undefined || call.raw ? 'POST' : 'GET');
		if (call.json !== undefined) headers.set('content-type', 'application/json');
		const request = new Request(url, {
			method,
			headers,
			body: call.raw
				? call.raw
				: call.form
					? new URLSearchParams(call.form)
					: call.json !== undefined
						? typeof call.json === 'string'
							? call.json
							: JSON.stringify(call.json)
						: undefined
		});
		const env = { ...this.env, ...call.env } as unknown as Env;
		const locals: App.Locals = { user: null, session: null };
		const token = this.jar.for(url).get(SESSION_COOKIE);
		if (token) {
			const { user, session } = await validateSessionToken(getDb(env.DB), token);
			locals.user = user;
			locals.session = session;
		}
		const ctx = createExecutionContext();
		return {
			cookies: this.jar.for(url),
			fetch,
			getClientAddress: () => headers.get('cf-connecting-ip') ?? '127.0.0.1',
			locals,
			params: call.params ?? {},
			platform: { env, ctx, caches, cf: call.cf as App.Platform['cf'] },
			request,
			route: { id: null },
			setHeaders: (set) => Object.assign(this.responseHeaders, set),
			// Which invalidations rerun a load: nothing to track outside SvelteKit.
			depends: () => {},
			url,
			isDataRequest: false,
			isSubRequest: false,
			isRemoteRequest: false,
			tracing: { enabled: false, root: {}, current: {} }
		} as RequestEvent;
	}
}
