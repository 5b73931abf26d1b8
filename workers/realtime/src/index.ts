export { ChatRoom } from './chat-room';

// No public route: the app worker reaches the room objects through its binding only.
export default {
	async fetch(): Promise<Response> {
		return new Response('Not found', { status: 404 });
	}
} satisfies ExportedHandler<Env>;
