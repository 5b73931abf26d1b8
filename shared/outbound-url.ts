// The URLs the realtime worker POSTs to that people give it: push subscriptions' endpoints and
// bots' outgoing webhooks. Neither may point into the local network (it must not become a way to
// make the worker call something inside the operator's network), and only https leaves the
// worker. In development a loopback address is allowed, reached over plain http (no TLS there).

/**
 * Why the worker must not POST to `href`, as the end of a sentence about it ("must be an https
 * URL."), or null when it may. `production`: loopback is refused too.
 */
export function outboundUrlProblem(href: string, production: boolean): string | null {
	let url: URL;
	try {
		url = new URL(href);
	} catch {
		return 'must be a URL.';
	}
	if (url.protocol !== 'https:') return 'must be an https URL.';
	if (url.username || url.password) return 'must not carry credentials.';
	const kind = hostKind(url.hostname);
	if (kind === 'public' || (kind === 'loopback' && !production)) return null;
	return 'must be on the internet, not a local address.';
}

/**
 * The URL to fetch for an https address that passed `outboundUrlProblem`: the same, except that in
 * development a loopback address is fetched over plain http at the same host and port.
 */
export function deliveryUrl(href: string, production: boolean): string {
	const url = new URL(href);
	if (!production && url.protocol === 'https:' && hostKind(url.hostname) === 'loopback') {
		url.protocol = 'http:';
	}
	return url.href;
}

/** The kind of host a URL names: by its literal address, or `localhost`. Names are `public`. */
export type HostKind = 'loopback' | 'private' | 'link-local' | 'public';

/** Classifies `URL.hostname` (already normalised by the URL parser: IPv6 in brackets, IPv4 dotted). */
export function hostKind(hostname: string): HostKind {
	const host = hostname.toLowerCase().replace(/\.$/, '');
	if (host === 'localhost' || host.endsWith('.localhost')) return 'loopback';
	if (host.startsWith('[') && host.endsWith(']')) return ipv6Kind(host.slice(1, -1));
	const v4 = ipv4(host);
	return v4 ? ipv4Kind(v4) : 'public';
}

function ipv4(host: string): number[] | null {
	const parts = host.split('.');
	if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p))) return null;
	const bytes = parts.map(Number);
	return bytes.every((b) => b <= 255) ? bytes : null;
}

function ipv4Kind([a = 0, b = 0]: number[]): HostKind {
	if (a === 127) return 'loopback';
	if (a === 169 && b === 254) return 'link-local';
	// "This network", the private ranges, and the carrier-grade NAT range.
	if (a === 0 || a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168)) {
		return 'private';
	}
	if (a === 100 && b >= 64 && b <= 127) return 'private';
	// Multicast, and the reserved block above it (broadcast among them): no one's server.
	if (a >= 224) return 'private';
	return 'public';
}

function ipv6Kind(address: string): HostKind {
	if (address === '::1') return 'loopback';
	if (address === '::') return 'private';
	// An IPv4 address written as IPv6 (the parser prints `::ffff:7f00:1` for `::ffff:127.0.0.1`).
	const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(address);
	if (mapped) {
		const high = parseInt(mapped[1]!, 16);
		const low = parseInt(mapped[2]!, 16);
		return ipv4Kind([high >> 8, high & 0xff, low >> 8, low & 0xff]);
	}
	const first = parseInt(address.split(':')[0] || '0', 16);
	if ((first & 0xffc0) === 0xfe80) return 'link-local';
	if ((first & 0xfe00) === 0xfc00) return 'private';
	return 'public';
}
