// Where a push subscription's endpoint points. The app refuses endpoints on the local network
// (a subscription is a URL our realtime worker will POST to: it must not become a way to make it
// call something inside), and the realtime worker sends to loopback over plain http in development.

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
