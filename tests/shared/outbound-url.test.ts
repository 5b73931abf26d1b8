// The addresses the realtime worker POSTs to that people give it (push endpoints, bots' outgoing
// webhooks): never into the local network, only https, loopback only in development.
import { describe, expect, it } from 'vitest';
import { deliveryUrl, hostKind, outboundUrlProblem } from '$shared/outbound-url';

describe('hostKind', () => {
	it('tells loopback, private and link-local addresses from the rest', () => {
		const kind = (url: string) => hostKind(new URL(url).hostname);
		expect(kind('https://localhost:8080/')).toBe('loopback');
		expect(kind('https://127.0.0.1/')).toBe('loopback');
		expect(kind('https://2130706433/')).toBe('loopback');
		expect(kind('https://[::1]/')).toBe('loopback');
		expect(kind('https://[::ffff:127.0.0.1]/')).toBe('loopback');
		expect(kind('https://[::ffff:10.1.2.3]/')).toBe('private');
		expect(kind('https://172.20.0.1/')).toBe('private');
		expect(kind('https://[fd00::1]/')).toBe('private');
		expect(kind('https://[fe80::1]/')).toBe('link-local');
		expect(kind('https://fcm.googleapis.com/fcm/send/x')).toBe('public');
		expect(kind('https://172.32.0.1/')).toBe('public');
	});
});

describe('outboundUrlProblem', () => {
	it('allows https addresses on the internet, by name or address', () => {
		for (const url of [
			'https://hooks.example.com/parley',
			'https://hooks.example.com:8443/a?b=c',
			'https://203.0.113.9/hook',
			'https://[2001:db8::1]/hook'
		]) {
			expect(outboundUrlProblem(url, true), url).toBeNull();
		}
	});

	it('refuses plain http, credentials and anything that is not a URL', () => {
		expect(outboundUrlProblem('http://hooks.example.com/', true)).toBe('must be an https URL.');
		expect(outboundUrlProblem('ftp://hooks.example.com/', false)).toBe('must be an https URL.');
		expect(outboundUrlProblem('https://me:secret@hooks.example.com/', true)).toBe(
			'must not carry credentials.'
		);
		expect(outboundUrlProblem('not a url', true)).toBe('must be a URL.');
		expect(outboundUrlProblem('', false)).toBe('must be a URL.');
	});

	it('refuses the local network in production, however the address is written', () => {
		for (const url of [
			'https://localhost/',
			'https://app.localhost/',
			'https://127.0.0.1:8787/',
			'https://2130706433/',
			'https://0x7f.1/',
			'https://[::1]/',
			'https://[::ffff:10.0.0.1]/',
			'https://10.1.2.3/',
			'https://172.16.0.1/',
			'https://192.168.1.1/',
			'https://100.64.0.1/',
			'https://0.0.0.0/',
			'https://224.0.0.1/',
			'https://255.255.255.255/',
			'https://169.254.169.254/latest/meta-data',
			'https://[fe80::1]/',
			'https://[fd00::1]/'
		]) {
			expect(outboundUrlProblem(url, true), url).toBe(
				'must be on the internet, not a local address.'
			);
		}
	});

	it('allows loopback in development only, and the private ranges never', () => {
		expect(outboundUrlProblem('https://127.0.0.1:9000/hook', false)).toBeNull();
		expect(outboundUrlProblem('https://localhost:9000/hook', false)).toBeNull();
		expect(outboundUrlProblem('https://10.0.0.8/hook', false)).toBe(
			'must be on the internet, not a local address.'
		);
	});
});

describe('deliveryUrl', () => {
	it('reaches loopback over plain http in development, and changes nothing else', () => {
		expect(deliveryUrl('https://127.0.0.1:9000/hook', false)).toBe('http://127.0.0.1:9000/hook');
		expect(deliveryUrl('https://127.0.0.1:9000/hook', true)).toBe('https://127.0.0.1:9000/hook');
		expect(deliveryUrl('https://hooks.example.com/x', false)).toBe('https://hooks.example.com/x');
	});
});
