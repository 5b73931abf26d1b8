import { cleanUpFiles } from './file-cleanup';

export { ChatRoom } from './chat-room';
export { UserHub } from './user-hub';
export { WebhookOutbox } from './webhook-outbox';

// Typed as the runtime's handler (not `satisfies`), so callers see the runtime's signatures.
const handler: ExportedHandler<Env> = {
	// No public route: the app worker reaches the room objects and user hubs through its bindings only.
	async fetch(): Promise<Response> {
		return new Response('Not found', { status: 404 });
	},

	// The cron (`[triggers]` in wrangler.toml): deletes files nobody can use any more. Here, not in
	// the app, because the app's generated worker exports only `fetch`. A failed run throws (the
	// runtime records it) and the next run picks up what is left.
	async scheduled(controller, env): Promise<void> {
		await cleanUpFiles({ db: env.DB, bucket: env.FILES }, controller.scheduledTime);
	}
};

export default handler;
