import { apiRouteModules, buildOpenApi } from '$lib/server/api/openapi';
import { RateLimits } from '$lib/server/rate-limit';
import { WEBHOOK_TOLERANCE_SECONDS } from '$shared/webhook-event';
import type { PageServerLoad } from './$types';

type JsonSchema = Record<string, unknown>;

type Parameter = {
	name: string;
	in: string;
	required: boolean;
	description?: string;
	schema: JsonSchema;
};

/** What an OpenAPI body lists: a schema per media type (JSON for most, bytes for files). */
type Content = Record<string, { schema?: JsonSchema }>;

type Operation = {
	operationId: string;
	summary: string;
	description?: string;
	tags: string[];
	security?: unknown[];
	'x-token-scope': 'read' | 'write';
	'x-room-limited-tokens'?: 'path' | 'own';
	parameters: Parameter[];
	requestBody?: { description?: string; content: Content };
	responses: Record<string, { description: string; content?: Content }>;
};

/** A schema's type in a few words: `string`, `"a" | "b"`, `array of string`, `integer, 1 to 100`. */
function typeOf(schema: JsonSchema): string {
	if (Array.isArray(schema.enum)) return schema.enum.map((v) => JSON.stringify(v)).join(' | ');
	if ('const' in schema) return JSON.stringify(schema.const);
	const union = schema.anyOf ?? schema.oneOf;
	if (Array.isArray(union)) return union.map((s) => typeOf(s as JsonSchema)).join(' | ');
	if (schema.type === 'array') return `array of ${typeOf((schema.items ?? {}) as JsonSchema)}`;
	const type = Array.isArray(schema.type) ? schema.type.join(' | ') : String(schema.type ?? 'any');
	const more: string[] = [];
	const range = (min: unknown, max: unknown, unit = '') => {
		if (min !== undefined && max !== undefined) more.push(`${min} to ${max}${unit}`);
		else if (min !== undefined) more.push(`at least ${min}${unit}`);
		else if (max !== undefined) more.push(`at most ${max}${unit}`);
	};
	range(schema.minLength, schema.maxLength, ' characters');
	range(schema.minimum, schema.maximum);
	if (typeof schema.pattern === 'string') more.push(`matching ${schema.pattern}`);
	return [type, ...more].join(', ');
}

const json = (schema: JsonSchema) => JSON.stringify(schema, null, 2);

/** A body as the page shows it: its media type, and its schema where it is JSON. */
function bodyOf(content: Content | undefined) {
	const [mediaType, entry] = Object.entries(content ?? {})[0] ?? [];
	if (!mediaType) return null;
	const isJson = /\bjson\b/.test(mediaType);
	return { mediaType, schema: isJson && entry?.schema ? json(entry.schema) : null };
}

/** The outgoing webhook's delivery as the guide shows it: its headers, body and answers. */
function webhookOf(op: ReturnType<typeof buildOpenApi>['webhooks']['message']['post']) {
	return {
		summary: op.summary,
		description: op.description,
		headers: op.parameters.map((p) => ({ name: p.name, description: p.description })),
		body: json(op.requestBody.content['application/json'].schema),
		answers: op.responses['200'].description,
		toleranceSeconds: WEBHOOK_TOLERANCE_SECONDS
	};
}

/**
 * The API's reference, for people: the OpenAPI document the API itself serves, read into what the
 * page shows. Public, as the document is.
 */
export const load: PageServerLoad = async ({ url }) => {
	const doc = buildOpenApi(await apiRouteModules(), url.origin);
	const operations = Object.entries(doc.paths).flatMap(([path, methods]) =>
		Object.entries(methods as Record<string, Operation>).map(([method, op]) => {
			const [status, success] = Object.entries(op.responses).find(([code]) =>
				code.startsWith('2')
			) ?? ['200', { description: 'OK.' }];
			const body = bodyOf(op.requestBody?.content);
			return {
				id: op.operationId,
				tag: op.tags[0] ?? '',
				method: method.toUpperCase(),
				path,
				summary: op.summary,
				description: op.description ?? null,
				public: op.security !== undefined && op.security.length === 0,
				scope: op['x-token-scope'],
				roomLimited: op['x-room-limited-tokens'] ?? null,
				parameters: op.parameters.map((p) => ({
					name: p.name,
					in: p.in,
					required: p.required,
					type: typeOf(p.schema),
					description: p.description ?? null
				})),
				body: body && { ...body, description: op.requestBody?.description ?? null },
				success: { status, description: success.description, body: bodyOf(success.content) },
				errors: Object.entries(op.responses)
					.filter(([code]) => !code.startsWith('2'))
					.map(([code, answer]) => ({ status: code, description: answer.description }))
			};
		})
	);
	return {
		title: doc.info.title,
		version: doc.info.version,
		origin: url.origin,
		rate: {
			limit: RateLimits.apiPerCaller.limit,
			minutes: RateLimits.apiPerCaller.windowMs / 60_000
		},
		errorSchema: json(doc.components.schemas.Error),
		webhook: webhookOf(doc.webhooks.message.post),
		groups: doc.tags.map((tag) => ({
			name: tag.name,
			description: tag.description,
			operations: operations.filter((op) => op.tag === tag.name)
		}))
	};
};
