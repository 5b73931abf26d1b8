// What the bench reads from Linux's /proc: the server's process tree and the CPU time of each kind
// of process in it, the machine's CPU time, and the loopback ports a process listens on. Reading
// only: nothing here starts, stops or talks to a process.
import { readFile, readdir, readlink } from 'node:fs/promises';

const TICKS_PER_SECOND = 100;
/** One CPU tick of /proc, in milliseconds. */
export const TICK_MS = 1000 / TICKS_PER_SECOND;

type ProcInfo = { pid: number; ppid: number; ticks: number; label: string };

async function readProc(pid: number): Promise<ProcInfo | null> {
	try {
		const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
		// The command name is in parentheses and may contain spaces: split after the last ')'.
		const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
		const ppid = Number(fields[1]);
		const ticks = Number(fields[11]) + Number(fields[12]);
		const cmdline = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0');
		return { pid, ppid, ticks, label: labelOf(cmdline) };
	} catch {
		return null;
	}
}

function labelOf(argv: string[]): string {
	const exe = argv[0] ?? '';
	if (exe.endsWith('workerd')) {
		// wrangler dev runs two runtimes: a proxy that owns the public port, and the workers.
		return argv.some((a) => a.startsWith('--socket-addr=entry=') && !a.endsWith(':0'))
			? 'proxy'
			: 'workers';
	}
	if (exe.endsWith('esbuild')) return 'esbuild';
	return 'wrangler';
}

async function allProcs(): Promise<ProcInfo[]> {
	const procs: ProcInfo[] = [];
	for (const name of await readdir('/proc')) {
		const pid = Number(name);
		if (!Number.isInteger(pid)) continue;
		const info = await readProc(pid);
		if (info) procs.push(info);
	}
	return procs;
}

function subtree(procs: ProcInfo[], rootPid: number): ProcInfo[] {
	const inTree = new Set([rootPid]);
	let grew = true;
	while (grew) {
		grew = false;
		for (const p of procs) {
			if (!inTree.has(p.pid) && inTree.has(p.ppid)) {
				inTree.add(p.pid);
				grew = true;
			}
		}
	}
	return procs.filter((p) => inTree.has(p.pid));
}

/** The processes of a server tree with a label ('proxy', 'workers', 'wrangler', 'esbuild'). */
export async function treeProcs(rootPid: number): Promise<{ pid: number; label: string }[]> {
	return subtree(await allProcs(), rootPid).map(({ pid, label }) => ({ pid, label }));
}

/** The runtime processes of a server tree that run the workers (not wrangler's dev proxy). */
export async function workersPids(rootPid: number): Promise<number[]> {
	return (await treeProcs(rootPid)).filter((p) => p.label === 'workers').map((p) => p.pid);
}

/** CPU ticks per label of a process and all its descendants. */
export async function treeTicks(rootPid: number): Promise<Map<string, number>> {
	const ticks = new Map<string, number>();
	for (const p of subtree(await allProcs(), rootPid)) {
		ticks.set(p.label, (ticks.get(p.label) ?? 0) + p.ticks);
	}
	return ticks;
}

/** Busy and total CPU ticks of the whole machine (all cores), from /proc/stat. */
export async function machineTicks(): Promise<{ busy: number; total: number } | null> {
	try {
		const line = (await readFile('/proc/stat', 'utf8')).split('\n', 1)[0]!;
		const values = line.trim().split(/\s+/).slice(1, 9).map(Number);
		const total = values.reduce((a, b) => a + b, 0);
		// idle and iowait are the 4th and 5th columns.
		return { busy: total - values[3]! - values[4]!, total };
	} catch {
		return null;
	}
}

/** Percent of one core per label between two snapshots. */
export function cpuPercent(
	before: Map<string, number>,
	after: Map<string, number>,
	seconds: number
): Record<string, number> & { total: number } {
	const out: Record<string, number> & { total: number } = { total: 0 };
	let total = 0;
	for (const [label, ticks] of after) {
		const used = ticks - (before.get(label) ?? 0);
		total += used;
		out[label] = Math.round((used / TICKS_PER_SECOND / seconds) * 100);
	}
	out.total = Math.round((total / TICKS_PER_SECOND / seconds) * 100);
	return out;
}

/** Listening TCP sockets on loopback: socket inode -> port. */
async function listeningSockets(): Promise<Map<string, number>> {
	const sockets = new Map<string, number>();
	for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
		const text = await readFile(file, 'utf8').catch(() => '');
		for (const line of text.split('\n').slice(1)) {
			const f = line.trim().split(/\s+/);
			if (f[3] === '0A' && f[1] && f[9]) sockets.set(f[9], parseInt(f[1].split(':')[1]!, 16));
		}
	}
	return sockets;
}

/** The ports among `listening` that a process holds open: its socket inodes, looked up there. */
async function portsOf(pid: number, listening: Map<string, number>): Promise<number[]> {
	const ports: number[] = [];
	const fds = await readdir(`/proc/${pid}/fd`).catch(() => [] as string[]);
	for (const fd of fds) {
		const target = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
		const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
		const port = inode === undefined ? undefined : listening.get(inode);
		if (port !== undefined) ports.push(port);
	}
	return ports;
}

/** The loopback ports a process listens on. */
export async function listeningPorts(pid: number): Promise<number[]> {
	return portsOf(pid, await listeningSockets());
}

/**
 * The first port one of `pids` listens on that `accepts` says yes to: how the bench finds the
 * runtime's own HTTP port and its inspector, which wrangler chooses at random and does not print.
 * A probe that throws is a no (not that kind of socket).
 */
export async function findPort(
	pids: number[],
	accepts: (port: number) => Promise<boolean>
): Promise<number | null> {
	for (const pid of pids) {
		for (const port of await listeningPorts(pid)) {
			if (await accepts(port).catch(() => false)) return port;
		}
	}
	return null;
}

/**
 * For --url: the wrangler process behind a loopback port, found through /proc (the process that
 * listens on it is wrangler's proxy runtime; its parent is wrangler). Null if it is not visible.
 */
export async function serverRootFor(port: number): Promise<number | null> {
	const listening = await listeningSockets();
	const procs = await allProcs();
	for (const p of procs) {
		if ((await portsOf(p.pid, listening)).includes(port)) {
			const parent = procs.find((q) => q.pid === p.ppid);
			return parent && parent.label === 'wrangler' ? parent.pid : p.pid;
		}
	}
	return null;
}
