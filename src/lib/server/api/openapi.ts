// The OpenAPI 3.1 document of the public API, built from the routes themselves: each route module
// under `src/routes/api/v1` exports handlers made by `endpoint`, whose specs carry the valibot
// schemas the route validates with. Nothing here is written twice.
import { toJsonSchema } from '@valibot/to-json-schema';
import {
	DELIVERY_TIMEOUT_SECONDS,
	WEBHOOK_EVENT_ID_HEADER,
	WEBHOOK_ID_HEADER,
	WEBHOOK_MAX_FAILURES,
	WEBHOOK_RETRY_BASE_MS,
	WEBHOOK_RETRY_MAX_MS,
	WEBHOOK_SIGNATURE_HEADER,
	WEBHOOK_TOLERANCE_SECONDS,
	WebhookEvent
} from '$shared/webhook-event';
import type * as v from 'valibot';
import { API_TAGS, type AnySpec, type ApiHandler } from './endpoint';

export const API_VERSION = '1.0.0';
const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

type JsonSchema = Record<string, unknown>;

/** `/src/routes/api/v1/rooms/[id]/messages/+server.ts` → `/api/v1/rooms/{id}/messages`. */
export function apiPathOf(moduleKey: string): string {
	const route = moduleKey.replace(/^.*\/src\/routes/, '').replace(/\/\+server\.ts$/, '');
	return route.replace(/\[(\w+)\]/g, '{$1}');
}

/** The handlers a route module exports, by method; throws on an export `endpoint` did not make. */
export function operationsOf(
	moduleKey: string,
	module: Record<string, unknown>
): [string, AnySpec][] {
	const found: [string, AnySpec][] = [];
	for (const [name, value] of Object.entries(module)) {
		if (!(METHODS as readonly string[]).includes(name)) continue;
		const spec = (value as Partial<ApiHandler>).spec;
		if (!spec)
			throw new Error(`${moduleKey} exports ${name} without a spec: build it with endpoint()`);
		found.push([name, spec]);
	}
	return found;
}

function schemaOf(schema: v.GenericSchema, typeMode: 'input' | 'output'): JsonSchema {
	const converted = toJsonSchema(schema, {
		target: 'draft-2020-12',
		typeMode,
		errorMode: 'ignore'
	}) as JsonSchema;
	delete converted.$schema;
	return converted;
}

/** An object schema's properties, each as an OpenAPI parameter. */
function parametersOf(schema: v.GenericSchema | undefined, where: 'path' | 'query') {
	if (!schema) return [];
	const object = schemaOf(schema, 'input') as {
		properties?: Record<string, JsonSchema>;
		required?: string[];
	};
	return Object.entries(object.properties ?? {}).map(([name, property]) => {
		const { description, ...rest } = property;
		return {
			name,
			in: where,
			required: where === 'path' || (object.required ?? []).includes(name),
			...(description ? { description } : {}),
			schema: rest
		};
	});
}

const COMMON_ERRORS: Record<number, string> = {
	400: 'The request is not valid: `details` lists each problem and where it is.',
	401: 'Not signed in, or the token is not valid (mistyped, expired or revoked).',
	403: 'Not allowed: by the rules of the room or person, by the token’s scope or rooms, or a cookie write from another site.',
	429: 'Too many requests: wait `Retry-After` seconds.'
};

const errorResponse = (description: string) => ({
	description,
	content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } }
});

function operationOf(method: string, path: string, spec: AnySpec) {
	const status = spec.status ?? 200;
	const success =
		status === 204
			? { description: spec.responseDescription ?? 'Done.' }
			: {
					description: spec.responseDescription ?? 'OK.',
					...(spec.response
						? { content: { 'application/json': { schema: schemaOf(spec.response, 'output') } } }
						: {})
				};
	const errors: Record<number, string> = spec.public ? {} : { ...COMMON_ERRORS };
	for (const [code, text] of Object.entries(spec.errors ?? {}))
		errors[Number(code)] = text as string;
	return {
		operationId: `${method.toLowerCase()}${path
			.replace(/^\/api\/v1/, '')
			.replace(/\{(\w+)\}/g, 'By-$1')
			.split(/[/._-]/)
			.filter(Boolean)
			.map((part) => part.charAt(0).toUpperCase() + part.slice(1))
			.join('')}`,
		summary: spec.summary,
		...(spec.description ? { description: spec.description } : {}),
		tags: [spec.tag],
		...(spec.public ? { security: [] } : {}),
		...(spec.scope === 'write' ? { 'x-token-scope': 'write' } : { 'x-token-scope': 'read' }),
		...(spec.rooms ? { 'x-room-limited-tokens': spec.rooms } : {}),
		parameters: [...parametersOf(spec.params, 'path'), ...parametersOf(spec.query, 'query')],
		...(spec.body
			? {
					requestBody: {
						required: true,
						content: { 'application/json': { schema: schemaOf(spec.body, 'input') } }
					}
				}
			: spec.rawBody
				? {
						requestBody: {
							required: true,
							description: spec.rawBody.description,
							content: {
								[spec.rawBody.mediaType]: {
									schema: { type: 'string', contentMediaType: spec.rawBody.mediaType }
								}
							}
						}
					}
				: {}),
		responses: {
			[status]: success,
			...Object.fromEntries(
				Object.entries(errors).map(([code, text]) => [code, errorResponse(text)])
			)
		}
	};
}

/** The document, for the route modules given (`import.meta.glob` of the API's `+server.ts`). */
export function buildOpenApi(modules: Record<string, Record<string, unknown>>, origin: string) {
	const paths: Record<string, Record<string, unknown>> = {};
	for (const [key, module] of Object.entries(modules).sort(([a], [b]) => a.localeCompare(b))) {
		const path = apiPathOf(key);
		for (const [method, spec] of operationsOf(key, module)) {
			(paths[path] ??= {})[method.toLowerCase()] = operationOf(method, path, spec);
		}
	}
	return {
		openapi: '3.1.0',
		info: {
			title: 'Parley API',
			version: API_VERSION,
			description:
				'The API Parley’s own clients, scripts and bots use. JSON in and out; errors in one shape; cursors, not offsets. See the guide at /docs/api.'
		},
		servers: [{ url: origin }],
		tags: Object.entries(API_TAGS).map(([name, description]) => ({ name, description })),
		security: [{ bearerToken: [] }, { sessionCookie: [] }],
		paths,
		webhooks: { message: { post: webhookOperation() } },
		components: {
			securitySchemes: {
				bearerToken: {
					type: 'http',
					scheme: 'bearer',
					description: 'A personal access token made in Settings → API tokens (`parley_pat_…`).'
				},
				sessionCookie: {
					type: 'apiKey',
					in: 'cookie',
					name: 'parley_session',
					description: 'The web app’s session; changes only from this site’s own pages.'
				}
			},
			schemas: {
				Error: {
					type: 'object',
					required: ['error'],
					properties: {
						error: {
							type: 'object',
							required: ['code', 'message'],
							properties: {
								code: {
									type: 'string',
									description: 'Stable, for programs: `bad_input`, `not_found`, `rate_limited`…'
								},
								message: {
									type: 'string',
									description: 'For people: what went wrong and what to do.'
								},
								details: {
									description: 'More, where a caller can act on it (which fields were wrong).'
								}
							}
						}
					}
				}
			}
		}
	};
}

/** What a bot's outgoing webhook receives: described here so that API tools know it too. */
function webhookOperation() {
	const header = (name: string, description: string) => ({
		name,
		in: 'header',
		required: true,
		description,
		schema: { type: 'string' }
	});
	return {
		operationId: 'outgoingWebhookMessage',
		summary: 'A new message in a bot’s room, POSTed to its outgoing webhook',
		description:
			'Set in the room’s details (Bots). One POST per message, oldest first, at least once: a retry carries the same `Parley-Event-Id`. Verify `Parley-Signature` before trusting the body.',
		parameters: [
			header(
				WEBHOOK_SIGNATURE_HEADER,
				`\`t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>" keyed with the webhook’s signing secret>\`; refuse one more than ${WEBHOOK_TOLERANCE_SECONDS} seconds from your clock.`
			),
			header(WEBHOOK_ID_HEADER, 'The webhook’s id.'),
			header(
				WEBHOOK_EVENT_ID_HEADER,
				'The event’s id (`<room id>:<seq>`), the same on every retry.'
			)
		],
		requestBody: {
			required: true,
			content: { 'application/json': { schema: schemaOf(WebhookEvent, 'output') } }
		},
		responses: {
			'200': {
				description: `Any 2xx takes it. Anything else, a redirect, or no answer within ${DELIVERY_TIMEOUT_SECONDS} seconds is a failure: the same event is retried after ${WEBHOOK_RETRY_BASE_MS / 1000} s, doubling up to ${WEBHOOK_RETRY_MAX_MS / 60_000} minutes; after ${WEBHOOK_MAX_FAILURES} failures in a row the webhook is turned off and the room’s admins are told.`
			}
		}
	};
}

/** The API's route modules, as this build has them (loaded when asked: this module is one). */
export async function apiRouteModules(): Promise<Record<string, Record<string, unknown>>> {
	const loaders = import.meta.glob<Record<string, unknown>>('/src/routes/api/v1/**/+server.ts');
	const entries = await Promise.all(
		Object.entries(loaders).map(async ([key, load]) => [key, await load()] as const)
	);
	return Object.fromEntries(entries);
}
