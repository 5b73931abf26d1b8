import { endpoint } from '$lib/server/api/endpoint';
import { apiRouteModules, buildOpenApi } from '$lib/server/api/openapi';

export const GET = endpoint({
	summary: 'This document',
	description:
		'The OpenAPI 3.1 description of every route of this API, built from the routes themselves.',
	tag: 'Meta',
	scope: 'read',
	public: true,
	responseDescription: 'An OpenAPI 3.1 document.',
	handle: async ({ event }) => buildOpenApi(await apiRouteModules(), event.url.origin)
});
