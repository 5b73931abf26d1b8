declare namespace Cloudflare {
	interface Env {
		TEST_MIGRATIONS: import('cloudflare:test').D1Migration[];
		FILES: R2Bucket;
		WEBHOOKS: globalThis.Env['WEBHOOKS'];
	}
}

// Bindings only the realtime worker has (the app never reaches a webhook's outbox). Its own type
// check reads them from its generated types; this program checks its files too, as the tests
// import them, so they are declared here for it.
interface Env {
	MAX_RETENTION_DAYS?: string;
	WEBHOOKS: DurableObjectNamespace<import('../workers/realtime/src/webhook-outbox').WebhookOutbox>;
}
