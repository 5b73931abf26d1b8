// The OpenAPI document describes exactly the routes that exist: every method exported by a module
// under src/routes/api/v1 is an operation of the document, and every operation is such a method,
// with its path's parameters, its schemas and its answers.
import { describe, expect, it } from 'vitest';
import { apiPathOf, buildOpenApi } from '$lib/server/api/openapi';
import * as openapi from '../../../../src/routes/api/v1/openapi.json/+server';
import { TestBrowser } from '../../../support/request-event';
import { call } from './support';

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS', 'fallback'];

// Found here on their own, not through the module that builds the document.
const routeFiles = import.meta.glob<Record<string, unknown>>('/src/routes/api/v1/**/+server.ts', {
	eager: true
});
const otherFiles = import.meta.glob('/src/routes/api/v1/**/*.{ts,js,svelte}');

type Operation = {
	operationId: string;
	summary: string;
	tags: string[];
	parameters: { name: string; in: string; required: boolean }[];
	requestBody?: unknown;
	responses: Record<string, unknown>;
	security?: unknown[];
};

async function served() {
	const answer = await call(new TestBrowser(), openapi.GET, { path: '/api/v1/openapi.json' });
	expect(answer.status).toBe(200);
	return answer.body as {
		openapi: string;
		paths: Record<string, Record<string, Operation>>;
		webhooks: Record<string, Record<string, Operation>>;
	};
}

describe('the OpenAPI document', () => {
	it('is served to anyone, as OpenAPI 3.1', async () => {
		const doc = await served();
		expect(doc.openapi).toBe('3.1.0');
		expect(Object.keys(doc.paths).length).toBeGreaterThan(3);
	});

	it('describes every route that exists, and no route that does not', async () => {
		const exported = new Set<string>();
		for (const [file, module] of Object.entries(routeFiles)) {
			for (const name of Object.keys(module)) {
				if (METHODS.includes(name)) exported.add(`${name.toLowerCase()} ${apiPathOf(file)}`);
			}
		}
		const documented = new Set<string>();
		for (const [path, operations] of Object.entries((await served()).paths)) {
			for (const method of Object.keys(operations)) documented.add(`${method} ${path}`);
		}
		expect([...documented].sort()).toEqual([...exported].sort());
		// The API has no pages or layouts of its own: only endpoints (and no stray modules).
		for (const file of Object.keys(otherFiles)) expect(file).toMatch(/\/\+server\.ts$/);
	});

	it('builds only from handlers that carry a spec', () => {
		expect(() =>
			buildOpenApi(
				{ '/src/routes/api/v1/raw/+server.ts': { GET: () => new Response('') } },
				'https://x'
			)
		).toThrow(/without a spec/);
	});

	it('gives each operation a unique id, a summary, a tag, its path parameters and its answers', async () => {
		const doc = await served();
		const ids = new Set<string>();
		for (const [path, operations] of Object.entries(doc.paths)) {
			const placeholders = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
			for (const [method, op] of Object.entries(operations)) {
				const where = `${method} ${path}`;
				expect(ids.has(op.operationId), where).toBe(false);
				ids.add(op.operationId);
				expect(op.summary, where).toMatch(/\w/);
				expect(op.tags, where).toHaveLength(1);
				const inPath = op.parameters.filter((p) => p.in === 'path');
				expect(inPath.map((p) => p.name).sort(), where).toEqual(placeholders);
				expect(inPath.every((p) => p.required)).toBe(true);
				const statuses = Object.keys(op.responses);
				expect(
					statuses.some((s) => s.startsWith('2')),
					where
				).toBe(true);
				// Public routes (the document, a webhook's secret address) need no sign-in.
				if (!op.security) {
					expect(statuses, where).toEqual(expect.arrayContaining(['401', '429']));
				}
				if (method === 'get') expect(op.requestBody, where).toBeUndefined();
			}
		}
	});

	it('documents request bodies from the schemas that validate them', async () => {
		const send = (await served()).paths['/api/v1/rooms/{id}/messages']!.post as Operation & {
			requestBody: {
				content: { 'application/json': { schema: { required: string[]; properties: object } } };
			};
		};
		const schema = send.requestBody.content['application/json'].schema;
		expect(schema.required).toEqual(expect.arrayContaining(['clientId', 'body']));
		expect(Object.keys(schema.properties)).toEqual(
			expect.arrayContaining(['clientId', 'body', 'replyTo', 'attachments'])
		);
	});

	it('describes what an outgoing webhook receives: the signed headers and the event', async () => {
		const op = (await served()).webhooks.message!.post!;
		expect(op.parameters.map((p) => [p.name, p.in, p.required])).toEqual([
			['Parley-Signature', 'header', true],
			['Parley-Webhook-Id', 'header', true],
			['Parley-Event-Id', 'header', true]
		]);
		const body = op.requestBody as {
			content: { 'application/json': { schema: { required: string[] } } };
		};
		expect(body.content['application/json'].schema.required).toEqual(
			expect.arrayContaining(['type', 'id', 'webhookId', 'room', 'bot', 'message', 'mentioned'])
		);
	});
});
