// The room page's handle on an end-to-end encrypted room. The MLS code (ts-mls and the engine) is
// not in the room page's first load, which has a size budget: it is fetched when an encrypted room
// opens, and until it is here, messages show as waiting and what is sent waits for it.
import { browser } from '$app/environment';
import { HANDSHAKE_PREVIEW, type ChatMessage } from '$shared/protocol';
import type { RoomCrypto } from '../room-connection.svelte';
import type { EncryptedRoom } from './room-crypto.svelte';
import type { OutboxFile } from '../outbox';

export const LOADING = '🔒 Decrypting…';

export class LazyEncryptedRoom implements RoomCrypto {
	#room = $state<EncryptedRoom | null>(null);
	#loading: Promise<EncryptedRoom>;
	#latest: readonly ChatMessage[] = [];
	#failed = $state<string | null>(null);

	constructor(init: ConstructorParameters<typeof EncryptedRoom>[0]) {
		// Server rendering shows the encrypted messages as waiting: only a device can read them.
		if (!browser) {
			this.#loading = new Promise(() => {});
			return;
		}
		this.#loading = import('./room-crypto.svelte').then((m) => {
			const room = new m.EncryptedRoom(init);
			this.#room = room;
			void room.start().then(
				() => room.observe(this.#latest),
				(error: unknown) => {
					console.warn('encrypted room: could not start', error);
					this.#failed =
						'This encrypted conversation could not be opened here. Reload to try again.';
				}
			);
			return room;
		});
		this.#loading.catch(() => {
			this.#failed = 'The encryption code could not be loaded. Check your connection and reload.';
		});
	}

	/** What the page says about this device here, if anything. */
	get notice(): string | null {
		return this.#failed ?? this.#room?.notice ?? null;
	}

	/** The names of members I verified whose security keys changed since. */
	get keysChanged(): string[] {
		return this.#room?.keysChanged ?? [];
	}

	/** This device is in the group and can send. */
	get ready(): boolean {
		return this.#room?.ready ?? false;
	}

	close(): void {
		void this.#loading.then((room) => room.close());
	}

	sealMessage(
		clientId: string,
		body: string,
		replyTo: number | undefined,
		files?: readonly OutboxFile[]
	) {
		return this.#loading.then((room) => room.sealMessage(clientId, body, replyTo, files));
	}

	sealEdit(seq: number, body: string) {
		return this.#loading.then((room) => room.sealEdit(seq, body));
	}

	sealReaction(message: ChatMessage, emoji: string, on: boolean) {
		return this.#loading.then((room) => room.sealReaction(message, emoji, on));
	}

	observe(messages: readonly ChatMessage[]): void {
		this.#latest = messages;
		this.#room?.observe(messages);
	}

	reveal(message: ChatMessage, find: (seq: number) => ChatMessage | undefined): ChatMessage {
		const room = this.#room;
		if (room) return room.reveal(message, find);
		if (message.kind === 'sealed')
			return { ...message, kind: 'text', body: LOADING, reactions: undefined };
		if (message.kind === 'handshake')
			return { ...message, kind: 'system', body: HANDSHAKE_PREVIEW };
		return message;
	}

	devicesChanged(): void {
		this.#room?.devicesChanged();
	}

	ownText(clientId: string): string | null {
		return this.#room?.ownText(clientId) ?? null;
	}
}
