import adapter from '@sveltejs/adapter-cloudflare';
import { vitePreprocess } from '@sveltejs/vite-plugin-svelte';

/** @type {import('@sveltejs/kit').Config} */
const config = {
	preprocess: vitePreprocess(),
	compilerOptions: { runes: true },
	kit: {
		adapter: adapter(),
		// SvelteKit's origin check on form posts stays on: it is our CSRF defence.
		csrf: { trustedOrigins: [] }
	}
};

export default config;
