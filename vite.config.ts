import { sveltekit } from '@sveltejs/kit/vite';
import { defineConfig } from 'vite';

export default defineConfig({
	plugins: [sveltekit()],
	server: {
		// `vite dev` runs in Node and never sees WebSocket upgrades: hand them to `wrangler dev`.
		proxy: { '/ws': { target: 'ws://localhost:8787', ws: true } }
	}
});
