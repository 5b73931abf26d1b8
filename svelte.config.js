import adapter from '@sveltejs/adapter-cloudflare';
import { vitePreprocess } from '@sveltejs/vite-plugin-svelte';

/**
 * The Content-Security-Policy of every rendered page. SvelteKit adds a fresh nonce per request to
 * `script-src` for its own hydration script (and for app.html's display-preferences script, which
 * carries `%sveltekit.nonce%`), and a hash instead on a prerendered page, where the policy goes in
 * a `<meta>` tag that cannot carry `frame-ancestors` (no page is prerendered today; SvelteKit
 * refuses to prerender while app.html contains `%sveltekit.nonce%`, so that choice cannot be made
 * by accident). No inline or injected script runs: a message body that slipped past the renderer
 * still could not execute.
 */
const contentSecurityPolicy = {
	'default-src': ['self'],
	'script-src': ['self'],
	// `<style>` elements and stylesheets: only our own files (a nonce is added if SvelteKit ever
	// inlines one).
	'style-src': ['self'],
	// Inline `style="…"` attributes are unavoidable: Svelte renders `style:` directives (avatar
	// colours, sizes) into the server's HTML as attributes, and app.html wraps the body in one.
	// A style attribute cannot run code; the worst an injected one could do is restyle the page,
	// and message bodies never contain attributes other than the renderer's own.
	'style-src-attr': ['unsafe-inline'],
	// Room for picture uploads, previewed from `blob:` URLs before they are sent, and small icons
	// as `data:` URLs. An image cannot run script.
	'img-src': ['self', 'blob:', 'data:'],
	'media-src': ['self', 'blob:'],
	// Room for an emoji font, bundled as a file or inlined as a `data:` URL.
	'font-src': ['self', 'data:'],
	// 'self' matches ws:/wss: to the page's own host (CSP Level 3, implemented by Chromium,
	// Firefox and Safari), which is where the realtime sockets go; no other origin is reachable.
	'connect-src': ['self'],
	// Room for a service worker (offline shell, push), served from our own origin.
	'worker-src': ['self'],
	'manifest-src': ['self'],
	'object-src': ['none'],
	'base-uri': ['none'],
	'frame-ancestors': ['none']
	// No `form-action`: linking a GitHub or Google account posts a form whose answer redirects to
	// the provider, and Chromium applies `form-action` to that redirect; the providers' hosts are
	// configurable. Forged form posts are refused by SvelteKit's origin check (`csrf` below), and
	// message bodies can contain no `<form>`.
};

/** @type {import('@sveltejs/kit').Config} */
const config = {
	preprocess: vitePreprocess(),
	compilerOptions: { runes: true },
	kit: {
		adapter: adapter(),
		// What the app and the realtime worker both use (protocol, D1 schema, identity codec, preview)
		// lives outside both; the realtime worker imports it by relative path.
		alias: { $shared: 'shared' },
		// SvelteKit's origin check on form posts stays on: it is our CSRF defence.
		csrf: { trustedOrigins: [] },
		csp: { mode: 'auto', directives: contentSecurityPolicy }
	}
};

export default config;
