// Local secrets for `wrangler dev`: a VAPID key pair for Web Push, made on first run and kept. Each
// worker reads the `.dev.vars` next to its own wrangler config (also when both run in one
// `wrangler dev -c wrangler.toml -c workers/realtime/wrangler.toml`): the app's gets the public key
// (the page subscribes with it), the realtime worker's all three (it signs and sends). Both files
// are ignored by git. Lines already there are kept; a pair is made only when one is missing, so a
// browser's subscription outlives restarts. `npm run dev`, the e2e suite and the bench run it.
//
// The realtime worker's file also says `APP_ENV=development`: `--var` on the command line reaches
// only the first config's worker, and wrangler.toml of each ships "production".
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
export const APP_DEV_VARS = `${ROOT}.dev.vars`;
export const REALTIME_DEV_VARS = `${ROOT}workers/realtime/.dev.vars`;

/** Who push services may write to about our pushes (RFC 8292 `sub`); any address will do locally. */
const DEV_SUBJECT = 'mailto:push@parley.localhost';

type VapidKeys = { publicKey: string; privateKey: string };

/** A P-256 pair as VAPID wants it: the public key's 65-byte uncompressed point and the private `d`. */
export async function generateVapidKeys(): Promise<VapidKeys> {
	const pair = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, [
		'sign',
		'verify'
	]);
	const point = new Uint8Array(await crypto.subtle.exportKey('raw', pair.publicKey));
	const { d } = await crypto.subtle.exportKey('jwk', pair.privateKey);
	if (!d) throw new Error('the private key exported without d');
	return { publicKey: Buffer.from(point).toString('base64url'), privateKey: d };
}

export function readVars(file: string): string[] {
	return existsSync(file) ? readFileSync(file, 'utf8').split('\n') : [];
}

export function valueOf(lines: string[], key: string): string | undefined {
	const line = lines.find((l) => l.startsWith(`${key}=`));
	return line?.slice(key.length + 1).replace(/^"(.*)"$/, '$1') || undefined;
}

/** Sets each key (replacing its line, or adding one at the end) and leaves every other line be. */
export function writeVars(file: string, lines: string[], values: Record<string, string>): boolean {
	const next = [...lines];
	for (const [key, value] of Object.entries(values)) {
		const at = next.findIndex((l) => l.startsWith(`${key}=`));
		const line = `${key}=${value}`;
		if (at >= 0) next[at] = line;
		else {
			// Appended before the file's final newline, if it has one.
			if (next.length > 0 && next[next.length - 1] === '') next.splice(next.length - 1, 0, line);
			else next.push(line);
		}
	}
	if (next[next.length - 1] !== '') next.push('');
	const changed = next.join('\n') !== lines.join('\n');
	if (changed) writeFileSync(file, next.join('\n'), { mode: 0o600 });
	return changed;
}

/** Makes sure both `.dev.vars` files hold a matching key pair; answers whether it wrote anything. */
export async function ensureDevVars(): Promise<boolean> {
	const realtime = readVars(REALTIME_DEV_VARS);
	const app = readVars(APP_DEV_VARS);
	const publicKey = valueOf(realtime, 'VAPID_PUBLIC_KEY');
	const privateKey = valueOf(realtime, 'VAPID_PRIVATE_KEY');
	const keys = publicKey && privateKey ? { publicKey, privateKey } : await generateVapidKeys();
	const realtimeValues: Record<string, string> = {
		VAPID_PUBLIC_KEY: keys.publicKey,
		VAPID_PRIVATE_KEY: keys.privateKey
	};
	if (!valueOf(realtime, 'VAPID_SUBJECT')) realtimeValues.VAPID_SUBJECT = DEV_SUBJECT;
	if (!valueOf(realtime, 'APP_ENV')) realtimeValues.APP_ENV = 'development';
	const wroteRealtime = writeVars(REALTIME_DEV_VARS, realtime, realtimeValues);
	const wroteApp = writeVars(APP_DEV_VARS, app, { VAPID_PUBLIC_KEY: keys.publicKey });
	return wroteRealtime || wroteApp;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
	if (await ensureDevVars()) {
		console.log(
			'dev-vars: wrote the Web Push (VAPID) keys into .dev.vars and workers/realtime/.dev.vars'
		);
	}
}
