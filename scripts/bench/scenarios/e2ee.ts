// e2ee: what end-to-end encryption costs the browser, measured in Chromium with the app's own MLS
// engine (src/lib/client/e2ee/engine.ts). No page of the app is involved: the engine is bundled for
// the browser here (esbuild, with the app's `$lib` and `$shared` aliases), put into a blank page as
// a script, and driven through `page.evaluate`; every figure is the page's `performance.now()`.
// Web Crypto needs a secure context, which about:blank is not: the page is an empty document on an
// https origin that does not exist, answered by Playwright itself (nothing is served or fetched).
// In the page, `--clients` devices (100) make one group: the first starts it and adds all the
// others in one commit, and each joins by that commit's welcome. Then one member encrypts
// `--count` chat lines (content encoded and encrypted, as a send does) and another decrypts them
// (received and decoded, as the timeline does); then the group's creator removes the last member,
// and every other remaining member processes that commit. Beside them, from the build the bench
// runs: the encryption code's size, fetched when an encrypted conversation opens, and the room
// page's first-load files that hold ts-mls (none; the size line has that page's own figure).
// Figures only: nothing is asserted
// against a target, but a result the engine got wrong (a line read back otherwise, a commit not
// naming the removed device) fails the scenario.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { BUILD_MANIFEST, kb, measureEncryption, measureRoomPage } from '../../lib/size.ts';
import { launchChromium } from '../browser.ts';
import type { Context, Result, Scenario, Settings } from '../context.ts';
import { log } from '../log.ts';
import { Histogram, round } from '../stats.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
/** The page's address: `.invalid` never resolves, and Playwright answers it before any network. */
const PAGE_URL = 'https://e2ee-bench.invalid/';
/** The global the bundle's exports land on in the page. */
const ENGINE_GLOBAL = 'parleyEngine';
/** A chat line of ordinary length (short lines are all padded to one size anyway). */
const LINE = 'Running ten minutes late, start without me and keep me a seat near the front?';
/** The whole run in the page, setup included: it takes seconds, this only keeps a stuck run bounded. */
const LIMIT_MS = 180_000;

/**
 * The page's copy of the engine: only what the scenario calls, with the states opaque (the bench's
 * scripts are type-checked apart from the app's sources). `MAX_HANDSHAKE_LENGTH` is the room's
 * limit on a commit, from the same bundle.
 */
type State = unknown;
type Device = { userId: string; deviceId: string };
type Pending = { state: State; commit: string };
type PageEngine = {
	MAX_HANDSHAKE_LENGTH: number;
	createDevice(userId: string, deviceId: string): Promise<Device>;
	makeKeyPackages(
		device: Device,
		count: number
	): Promise<{ published: string[]; secrets: unknown[] }>;
	startGroup(device: Device, roomId: string): Promise<State>;
	addDevices(state: State, keyPackages: string[]): Promise<Pending & { welcome: string }>;
	removeDevices(state: State, devices: Device[]): Promise<Pending>;
	commitAccepted(made: Pending): State;
	joinFromWelcome(
		device: Device,
		secrets: unknown[],
		welcome: string,
		roomId: string
	): Promise<State>;
	encryptMessage(
		state: State,
		plaintext: Uint8Array
	): Promise<{ state: State; ciphertext: string }>;
	receive(
		state: State,
		wire: string
	): Promise<
		| { kind: 'application'; state: State; plaintext: Uint8Array }
		| { kind: 'commit'; state: State; removed: Device[] }
	>;
	encodeContent(content: { v: 1; kind: 'message'; body: string }): Uint8Array;
	decodeContent(bytes: Uint8Array): { kind: string; body?: string };
};

type PageArgs = { engineGlobal: string; members: number; messages: number; line: string };
type PageFigures = {
	setupMs: number;
	addCommitChars: number;
	welcomeChars: number;
	ciphertextChars: number;
	encryptMs: number[];
	decryptMs: number[];
	removeCommitMs: number;
	removeCommitChars: number;
	removeCommitBytes: number;
	commitLimitChars: number;
	processMs: number[];
};

/** The engine and the room's commit limit as one classic script for the page. */
async function bundleEngine(): Promise<string> {
	// ts-mls imports its optional peers (other ciphersuites' crypto) on demand; Parley installs
	// none of them (shared/e2ee/mls.ts), so they stay imports that Parley's suite never runs.
	const mls = JSON.parse(readFileSync(`${ROOT}node_modules/ts-mls/package.json`, 'utf8')) as {
		peerDependencies?: Record<string, string>;
	};
	const optional = Object.keys(mls.peerDependencies ?? {}).flatMap((name) => [name, `${name}/*`]);
	const built = await build({
		stdin: {
			contents: `export * from '$lib/client/e2ee/engine';
				export { MAX_HANDSHAKE_LENGTH } from '$shared/protocol';`,
			resolveDir: ROOT,
			loader: 'ts'
		},
		alias: { $lib: `${ROOT}src/lib`, $shared: `${ROOT}shared` },
		external: optional,
		bundle: true,
		format: 'iife',
		globalName: ENGINE_GLOBAL,
		platform: 'browser',
		write: false,
		logLevel: 'silent'
	});
	return built.outputFiles[0]!.text;
}

/** Runs in the page (serialized by Playwright: it may use only its arguments and the page's globals). */
async function measureInPage({
	engineGlobal,
	members,
	messages,
	line
}: PageArgs): Promise<PageFigures> {
	const mls = (globalThis as unknown as Record<string, PageEngine>)[engineGlobal]!;
	const roomId = 'bench-room';
	const setupStart = performance.now();
	const devices = await Promise.all(
		Array.from({ length: members }, (_, i) => mls.createDevice(`member${i}`, 'device'))
	);
	const [creator, ...joiners] = devices as [Device, ...Device[]];
	const packages = await Promise.all(joiners.map((device) => mls.makeKeyPackages(device, 1)));
	const added = await mls.addDevices(
		await mls.startGroup(creator, roomId),
		packages.map((made) => made.published[0]!)
	);
	const states = [mls.commitAccepted(added)];
	for (const [i, device] of joiners.entries()) {
		states.push(await mls.joinFromWelcome(device, packages[i]!.secrets, added.welcome, roomId));
	}
	const setupMs = performance.now() - setupStart;

	// A member's lines, encrypted one by one, then another member's reading of them in order.
	const [sender, reader] = [1, 2];
	const encryptMs: number[] = [];
	const ciphertexts: string[] = [];
	for (let i = 0; i < messages; i++) {
		const start = performance.now();
		const plaintext = mls.encodeContent({ v: 1, kind: 'message', body: `${line} ${i}` });
		const sent = await mls.encryptMessage(states[sender]!, plaintext);
		encryptMs.push(performance.now() - start);
		states[sender] = sent.state;
		ciphertexts.push(sent.ciphertext);
	}
	const decryptMs: number[] = [];
	for (const [i, ciphertext] of ciphertexts.entries()) {
		const start = performance.now();
		const got = await mls.receive(states[reader]!, ciphertext);
		const body = got.kind === 'application' ? mls.decodeContent(got.plaintext).body : undefined;
		decryptMs.push(performance.now() - start);
		if (body !== `${line} ${i}`) throw new Error(`line ${i} was read back otherwise`);
		states[reader] = got.state;
	}

	// The creator removes the last member; every other remaining member processes the commit.
	const removed = devices.at(-1)!;
	const commitStart = performance.now();
	const removal = await mls.removeDevices(states[0]!, [removed]);
	const removeCommitMs = performance.now() - commitStart;
	states[0] = mls.commitAccepted(removal);
	const processMs: number[] = [];
	for (let i = 1; i < members - 1; i++) {
		const start = performance.now();
		const got = await mls.receive(states[i]!, removal.commit);
		processMs.push(performance.now() - start);
		if (got.kind !== 'commit' || got.removed[0]?.userId !== removed.userId) {
			throw new Error(`member ${i} did not read the removal`);
		}
		states[i] = got.state;
	}
	return {
		setupMs,
		addCommitChars: added.commit.length,
		welcomeChars: added.welcome.length,
		ciphertextChars: ciphertexts[0]!.length,
		encryptMs,
		decryptMs,
		removeCommitMs,
		removeCommitChars: removal.commit.length,
		removeCommitBytes: atob(removal.commit).length,
		commitLimitChars: mls.MAX_HANDSHAKE_LENGTH,
		processMs
	};
}

/** The encryption code's cost to the room page, from the build being measured. */
function bundleFigures(): Result {
	if (!existsSync(BUILD_MANIFEST)) {
		log('e2ee: no build to measure the encryption code from (run npm run build)');
		return {};
	}
	const encryption = measureEncryption(measureRoomPage());
	return {
		encryptionGzipKb: Number(kb(encryption.gzip)),
		encryptionFiles: encryption.files.length,
		mlsInFirstLoad: encryption.mlsInFirstLoad
	};
}

/** Mean, p50, p99 and max of a series, in ms, with the given prefix. */
function spread(prefix: string, samples: number[]): Result {
	const times = new Histogram();
	for (const ms of samples) times.add(ms);
	const total = samples.reduce((sum, ms) => sum + ms, 0);
	return {
		[`${prefix}MeanMs`]: round(total / samples.length, 2),
		[`${prefix}P50Ms`]: round(times.quantile(0.5), 2),
		[`${prefix}P99Ms`]: round(times.quantile(0.99), 2),
		[`${prefix}MaxMs`]: round(times.max, 2)
	};
}

export const e2ee: Scenario = {
	// clients: the group's devices; count: the lines encrypted and decrypted.
	defaults: { clients: 100, senders: 1, rate: 0, duration: 0, count: 200 },
	// Nothing goes through the app; the room the bench seeds for it goes unused.
	accounts: () => 1,
	async run(ctx: Context, s: Settings): Promise<Result> {
		// At least the creator, a sender and a reader.
		const members = Math.max(3, s.clients);
		const messages = s.count ?? 200;
		const engine = await bundleEngine();
		log(`e2ee: engine bundled (${Math.round(engine.length / 1000)} kB); ${members} devices`);

		const browser = await launchChromium();
		const version = browser.version();
		const limit = AbortSignal.any([ctx.signal, AbortSignal.timeout(LIMIT_MS)]);
		const stop = () => void browser.close();
		limit.addEventListener('abort', stop, { once: true });
		let figures: PageFigures;
		try {
			const page = await browser.newPage();
			await page.route(PAGE_URL, (route) =>
				route.fulfill({ contentType: 'text/html', body: '<!doctype html><title>e2ee</title>' })
			);
			await page.goto(PAGE_URL);
			await page.addScriptTag({ content: engine });
			log(`e2ee: a group of ${members}, ${messages} lines, then one removal`);
			const args: PageArgs = { engineGlobal: ENGINE_GLOBAL, members, messages, line: LINE };
			figures = await page.evaluate(measureInPage, args);
		} catch (error) {
			if (limit.aborted && !ctx.signal.aborted) {
				throw new Error(`not done within ${LIMIT_MS / 1000} s`, { cause: error });
			}
			throw error;
		} finally {
			limit.removeEventListener('abort', stop);
			await browser.close();
		}
		return {
			scenario: 'e2ee',
			chromium: version,
			members,
			setupMs: round(figures.setupMs, 0),
			addCommitChars: figures.addCommitChars,
			welcomeChars: figures.welcomeChars,
			messages,
			ciphertextChars: figures.ciphertextChars,
			...spread('encrypt', figures.encryptMs),
			...spread('decrypt', figures.decryptMs),
			removeCommitMs: round(figures.removeCommitMs, 1),
			removeCommitBytes: figures.removeCommitBytes,
			removeCommitChars: figures.removeCommitChars,
			commitLimitChars: figures.commitLimitChars,
			receivers: figures.processMs.length,
			...spread('process', figures.processMs),
			...bundleFigures()
		};
	}
};
