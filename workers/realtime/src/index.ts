export { ChatRoom } from './chat-room';
export { UserHub } from './user-hub';

// No public route: the app worker reaches the room objects and user hubs through its bindings only.
export default {
	async fetch(): Promise<Response> {
		return new Response('Not found', { status: 404 });
	}
} satisfies ExportedHandler<Env>;
