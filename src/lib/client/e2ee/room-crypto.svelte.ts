// One end-to-end encrypted room, in the browser (docs/e2ee.md). This device follows the room's
// MLS group through the room's own order: it applies each commit (`handshake`) and decrypts each
// message (`sealed`) once, in `seq` order, keeping the words it read (MLS keys are used once, so a
// message cannot be read twice) and the group's state in the device's store. It encrypts what the
// person sends, and keeps the group's devices in step with the room's members: it adds the devices
// the group lacks and removes those that went, one commit at a time, in a race with every other
// member's device that the room decides (`stale_epoch`: catch up, then try again).
//
// The timeline keeps the messages as the room sent them; `reveal` gives the page each one as it
// reads. No runes in the parts that decide: only `version`, `ready`, `notice` and `keysChanged` are
// state.
/* eslint-disable svelte/prefer-svelte-reactivity -- the maps and sets here are bookkeeping: what
   the page reads of them changes with `version`, bumped when they do. */
import {
	HANDSHAKE_PREVIEW,
	isReactionEmoji,
	mentionedUsernames,
	type ChatMessage
} from '$shared/protocol';
import { HistoryPage, fetchHistory } from '../history';
import {
	ReceiveError,
	addDevices,
	commitAccepted,
	decodeContent,
	encodeContent,
	encryptMessage,
	groupEpoch,
	groupMembers,
	joinFromWelcome,
	removeDevices,
	renewKeys,
	startGroup,
	type Content,
	type Device,
	type DeviceRef,
	type GroupState,
	type PendingCommit,
	type SealedFile,
	MAX_SEALED_FILE_NAME,
	receive
} from './engine';
import { E2eeStore } from './keystore';
import { verificationState } from './verification';
import { defaultDeviceName, ensureDevice, forgetUsedKeyPackage } from './device-session';
import { SealedFiles } from './sealed-files';
import { appApi, type Api, type RoomDevices } from './room-api';
import type { OutboxFile } from '../outbox';

/** What a sealed message of the timeline says, as far as this device can read it. */
type Read =
	| { kind: 'text'; body: string; replyTo?: number; files?: SealedFile[] }
	| { kind: 'unreadable'; why: string };

/**
 * Brings every group this browser's device is in up to date with its room's devices, one room
 * after another: after a device of mine was removed, so that it leaves every group at once rather
 * than as each room is next opened.
 */
export async function reconcileEverywhere(userId: string): Promise<void> {
	const store = await E2eeStore.open(userId);
	// Only a device of this browser's may: this must never make one.
	if (!(await store.loadDevice())?.approved) return;
	for (const roomId of await store.groupRoomIds()) {
		const room = new EncryptedRoom({
			roomId,
			userId,
			names: () => '',
			mentions: () => []
		});
		try {
			await room.start();
		} catch (error) {
			console.warn('encrypted room: could not bring its devices up to date', roomId, error);
		} finally {
			room.close();
		}
	}
}

export const OWN_DEVICE_COMMIT = '🔒 You updated the devices in this conversation';
export const BEFORE_JOINING =
	'🔒 Sent before this device joined the conversation: it can’t be read here.';
export const UNREADABLE = '🔒 This message couldn’t be decrypted on this device.';
export const WAITING = '🔒 Waiting for a key…';

/** How often an open room looks for devices to add or remove (and a waiting device, its welcome). */
const RECONCILE_EVERY_MS = 10_000;
/** Tries at a commit that keeps losing the race before giving up until the next change. */
const COMMIT_TRIES = 5;

export class EncryptedRoom {
	/** Bumped whenever what `reveal` answers may have changed. */
	version = $state(0);
	/** What the page says about this device and the conversation's encryption, if anything. */
	notice = $state<string | null>(null);
	/** Ready: this device is in the group and can send. */
	ready = $state(false);
	/** The names of members I verified whose security keys changed since. */
	keysChanged = $state<string[]>([]);

	#roomId: string;
	#userId: string;
	#store!: E2eeStore;
	#api: Api;
	#device: Device | null = null;
	#group: GroupState | null = null;
	/** The highest seq this device has applied or read. */
	#followed = 0;
	/** The seq from which this device is in the group (its welcome's commit, or the group's start). */
	#joinedAt = 0;
	/** Everything that touches the group's state, one after another. */
	#queue: Promise<unknown> = Promise.resolve();
	/** What each sealed seq said when first sent (its reply target) and each ciphertext read. */
	#bySeq = new Map<number, Read>();
	#byCipher = new Map<string, Content>();
	/** A commit's line in the timeline, by seq. */
	#lines = new Map<number, string>();
	/** The commits this tab made and the room took: applied already, never again. */
	#ownCommits = new Set<string>();
	/** My own messages' content by clientId: a sender cannot decrypt its own MLS message. */
	#own = new Map<string, Content>();
	#names: (userId: string) => string;
	#mentions: (usernames: string[]) => string[];
	#closed = false;
	#timer: ReturnType<typeof setInterval> | undefined;
	#files = new SealedFiles(() => this.#touch());
	/** The timeline as last observed. */
	#latest: readonly ChatMessage[] = [];
	/** The newest commit a device waiting to be let in has seen go by. */
	#handshakeSeen = 0;

	constructor(init: {
		roomId: string;
		userId: string;
		api?: Api;
		/** A member's display name, for the lines that say whose devices changed. */
		names: (userId: string) => string;
		/** The ids of the members with these usernames (for mentions: the room cannot read them). */
		mentions: (usernames: string[]) => string[];
	}) {
		this.#roomId = init.roomId;
		this.#userId = init.userId;
		this.#api = init.api ?? appApi;
		this.#names = init.names;
		this.#mentions = init.mentions;
	}

	/** Loads the group (or joins or starts it), catches up, and brings its devices in step. */
	start(): Promise<void> {
		return this.#serial(async () => {
			this.#store = await E2eeStore.open(this.#userId);
			const session = await ensureDevice(this.#userId, defaultDeviceName(), this.#store);
			if (!session.ok) {
				this.notice = session.message;
				return;
			}
			if (!session.approved) {
				this.notice =
					'This browser is a new device: approve it from one of your other devices (Settings → Devices) to read encrypted conversations here.';
				return;
			}
			this.#device = session.device;
			await this.#enter();
		}).then(() => {
			if (this.#closed) return;
			// Members' devices come and go while the room is open: look again now and then, and a
			// device still waiting to be let in asks for its welcome again.
			this.#timer = setInterval(() => void this.#tick(), RECONCILE_EVERY_MS);
			return this.reconcile();
		});
	}

	close(): void {
		this.#closed = true;
		clearInterval(this.#timer);
		this.#files.close();
	}

	/**
	 * The members this person verified whose keys are no longer those they verified: the page
	 * warns, as the details page does (`verification.ts`).
	 */
	async #checkKeys(devices: RoomDevices['devices']): Promise<void> {
		const keys = new Map<string, string[]>();
		for (const d of devices) keys.set(d.userId, [...(keys.get(d.userId) ?? []), d.identityKey]);
		const changed: string[] = [];
		for (const [userId, identityKeys] of keys) {
			if (userId === this.#userId) continue;
			if ((await verificationState(this.#store, userId, identityKeys)) === 'changed') {
				changed.push(this.#names(userId));
			}
		}
		if (changed.join() !== this.keysChanged.join()) this.keysChanged = changed;
	}

	/** A member's devices changed: bring the group in step now. */
	devicesChanged(): void {
		if (this.ready) void this.reconcile();
	}

	#tick(): Promise<void> {
		if (!this.#device) return Promise.resolve();
		return this.ready ? this.reconcile() : this.#serial(() => this.#enter());
	}

	/**
	 * The timeline changed: read whatever it holds that this device has not (new messages in
	 * order, edits and reactions by their ciphertext, and what earlier visits read, from the store).
	 */
	observe(messages: readonly ChatMessage[]): void {
		this.#latest = messages;
		const newest = messages.at(-1)?.seq ?? 0;
		// Waiting to be let in: a new commit may be the one that welcomes this device.
		const handshake = messages.findLast((m) => m.kind === 'handshake')?.seq ?? 0;
		if (!this.#group && this.#device && handshake > this.#handshakeSeen) {
			this.#handshakeSeen = handshake;
			void this.#serial(() => this.#enter());
		}

		// Edits (a sealed message's body once changed) and reactions, each with who may have sent it.
		const ciphers = new Map<string, readonly string[]>();
		for (const m of messages) {
			if (m.kind === 'sealed' && m.seq <= this.#followed && !this.#byCipher.has(m.body)) {
				ciphers.set(m.body, m.senderId ? [m.senderId] : []);
			}
			for (const [key, users] of Object.entries(m.reactions ?? {})) {
				if (!isReactionEmoji(key) && !this.#byCipher.has(key)) ciphers.set(key, users);
			}
		}
		this.#recallRead();
		if (ciphers.size > 0) void this.#readCiphers(ciphers);
		if (newest > this.#followed && this.#group) {
			void this.#serial(() => this.#follow(messages)).catch((error: unknown) => {
				console.warn('encrypted room: could not catch up', error);
			});
		}
	}

	/**
	 * Applies the newer messages the timeline has in hand when they follow on from `#followed`
	 * without a gap (the live case); otherwise reads the gap from the history first.
	 */
	async #follow(messages: readonly ChatMessage[]): Promise<void> {
		const newer = messages.filter((m) => m.seq > this.#followed);
		if (newer.length === 0 || !this.#group) return;
		if (newer[0]!.seq !== this.#followed + 1) return this.#catchUp();
		for (const message of newer) {
			if (message.seq !== this.#followed + 1 || !this.#group) break;
			await this.#apply(message);
			this.#followed = message.seq;
		}
		await this.#save();
		this.#touch();
	}

	/** A message as this device reads it: words decrypted, a commit as a line, reactions as emoji. */
	reveal(message: ChatMessage, find: (seq: number) => ChatMessage | undefined): ChatMessage {
		void this.version; // what this answers changes as messages are read
		if (message.kind === 'handshake') {
			// What changed is known to the tab that applied the commit; another tab of this browser
			// (which moved the shared state past it) says who, not what.
			const line =
				this.#lines.get(message.seq) ??
				(message.senderId === this.#userId
					? OWN_DEVICE_COMMIT
					: `🔒 ${message.senderName || 'Someone'} updated the devices in this conversation`);
			return { ...message, kind: 'system', body: line };
		}
		const reactions = message.reactions && this.#reactions(message.seq, message.reactions);
		const withReactions = reactions ? { ...message, reactions } : message;
		if (message.kind !== 'sealed') return withReactions;
		if (message.deletedAt !== undefined) return { ...withReactions, kind: 'text' };
		const original = this.#bySeq.get(message.seq);
		const latest = this.#byCipher.get(message.body);
		// An edit counts only on the message it names (a server could move it to another).
		const words =
			latest?.kind === 'message' || (latest?.kind === 'edit' && latest.seq === message.seq)
				? latest.body
				: original?.kind === 'unreadable'
					? original.why
					: message.seq < this.#joinedAt
						? BEFORE_JOINING
						: WAITING;
		const shown: ChatMessage = { ...withReactions, kind: 'text', body: words };
		const files = original?.kind === 'text' ? original.files : undefined;
		if (message.attachments) shown.attachments = this.#files.shown(files, message.attachments);
		const replyTo = original?.kind === 'text' ? original.replyTo : undefined;
		if (replyTo !== undefined) {
			const quoted = find(replyTo);
			const quotedShown = quoted && this.reveal(quoted, () => undefined);
			shown.replyTo = {
				seq: replyTo,
				senderName: quotedShown?.senderName ?? '',
				snippet:
					quotedShown?.deletedAt === undefined ? (quotedShown?.body.slice(0, 140) ?? '') : '',
				deleted: quotedShown?.deletedAt !== undefined
			};
		}
		return shown;
	}

	/** My message not yet in the timeline, as I wrote it. */
	ownText(clientId: string): string | null {
		const content = this.#own.get(clientId);
		return content && content.kind === 'message' ? content.body : null;
	}

	// ---- what the person sends ----

	/**
	 * Encrypts a new message for the room: the ciphertext to send, and the members it mentions
	 * (found here, where the words are: the room cannot read them).
	 */
	sealMessage(
		clientId: string,
		body: string,
		replyTo: number | undefined,
		files?: readonly OutboxFile[]
	): Promise<{ body: string; mentions: string[] }> {
		const content: Content = {
			v: 1,
			kind: 'message',
			body,
			...(replyTo ? { replyTo } : {}),
			...(files?.length ? { files: files.map(sealedFileOf) } : {})
		};
		return this.#seal(content).then(async (cipher) => {
			this.#own.set(clientId, content);
			this.#byCipher.set(cipher, content);
			await this.#store.putOwn(this.#roomId, clientId, content);
			return { body: cipher, mentions: this.#mentions(mentionedUsernames(body)) };
		});
	}

	sealEdit(seq: number, body: string): Promise<string> {
		const original = this.#bySeq.get(seq);
		const files = original?.kind === 'text' ? original.files : undefined;
		const content: Content = { v: 1, kind: 'edit', seq, body, ...(files ? { files } : {}) };
		return this.#seal(content).then(async (cipher) => {
			await this.#keep(cipher, content, this.#userId);
			this.#touch();
			return cipher;
		});
	}

	/**
	 * Keeps what a ciphertext said (MLS reads it once). An edit also becomes what its message is
	 * found by in this device's search.
	 */
	async #keep(cipher: string, content: Content, senderId: string): Promise<void> {
		this.#byCipher.set(cipher, content);
		if (content.kind !== 'edit') return this.#store.putCipher(this.#roomId, cipher, content);
		await this.#store.putTexts(this.#roomId, [
			{ seq: content.seq, cipher, content, senderId, createdAt: Date.now() }
		]);
	}

	/**
	 * The reaction to send: turning one on encrypts the emoji; taking mine back names the very
	 * ciphertext I reacted with (the room knows reactions by it), or null if I have none.
	 */
	async sealReaction(message: ChatMessage, emoji: string, on: boolean): Promise<string | null> {
		if (!on) {
			for (const [key, users] of Object.entries(message.reactions ?? {})) {
				if (!users.includes(this.#userId)) continue;
				const content = this.#byCipher.get(key);
				if (content?.kind === 'reaction' && content.emoji === emoji) return key;
			}
			return null;
		}
		const content: Content = { v: 1, kind: 'reaction', seq: message.seq, emoji };
		const cipher = await this.#seal(content);
		await this.#keep(cipher, content, this.#userId);
		return cipher;
	}

	// ---- the group's devices ----

	/**
	 * Brings the group's devices in step with the room's members: adds the approved devices it
	 * lacks, removes the ones that went (a removed device, a member who left). Every device of every
	 * member does this; the room lets one commit through per epoch, and the others find nothing left
	 * to do once they caught up.
	 */
	reconcile(): Promise<void> {
		return this.#serial(async () => {
			for (let attempt = 0; attempt < COMMIT_TRIES && this.#group && !this.#closed; attempt++) {
				// A commit is made from the newest epoch this device can know of.
				await this.#catchUp();
				const made = await this.#planCommit();
				if (!made) return;
				const clientId = `commit-${crypto.randomUUID()}`;
				const sent = await this.#api.commit(this.#roomId, {
					clientId,
					epoch: Number(this.#group.groupContext.epoch),
					commit: made.commit,
					...(made.adds.length ? { welcome: made.welcome, adds: made.adds } : {})
				});
				if (sent.ok) {
					// Messages between the catch-up and the commit were sent in the epoch just left,
					// whose keys the group keeps: the catch-up reads them, and skips the commit itself.
					this.#group = commitAccepted(made);
					this.#ownCommits.add(clientId);
					this.#lines.set(sent.seq, this.#deviceLine(this.#userId, made.added, made.removed));
					await this.#save();
					continue;
				}
				if (sent.code !== 'stale_epoch') {
					this.notice = sent.message;
					return;
				}
				// Another device's first commit made the group: this one's never was, and goes.
				if (groupEpoch(this.#group) === 0n) return this.#enter();
			}
		});
	}

	async #planCommit(): Promise<
		| (PendingCommit & {
				welcome?: string;
				adds: string[];
				added: DeviceRef[];
				removed: DeviceRef[];
		  })
		| null
	> {
		const group = this.#group!;
		const { devices, removed } = await this.#api.roomDevices(this.#roomId);
		await this.#checkKeys(devices);
		const inGroup = groupMembers(group);
		const key = (d: DeviceRef) => `${d.userId}/${d.deviceId}`;
		const present = new Set(inGroup.map(key));
		const wanted = new Set(devices.map(key));
		const gone = new Set(removed.map(key));
		const own = this.#device!;
		const toRemove = inGroup.filter(
			(m) => key(m) !== key(own) && (gone.has(key(m)) || !wanted.has(key(m)))
		);
		const toAdd = devices.filter((d) => !present.has(key(d)));
		if (toRemove.length > 0) {
			const made = await removeDevices(group, toRemove);
			return { ...made, adds: [], added: [], removed: toRemove };
		}
		// A group nobody else is in yet still claims the room's first epoch, so that it is the one.
		const first = groupEpoch(group) === 0n;
		if (toAdd.length === 0) {
			return first ? { ...(await renewKeys(group)), adds: [], added: [], removed: [] } : null;
		}
		const claimed = await this.#api.claim(
			this.#roomId,
			toAdd.map((d) => d.deviceId)
		);
		const packages = claimed.filter((c) => c.keyPackage !== null);
		if (packages.length === 0) {
			return first ? { ...(await renewKeys(group)), adds: [], added: [], removed: [] } : null;
		}
		const added = packages.map((c) => toAdd.find((d) => d.deviceId === c.deviceId)!);
		const made = await addDevices(
			group,
			packages.map((c) => c.keyPackage!)
		);
		return { ...made, adds: added.map((d) => d.deviceId), added, removed: [] };
	}

	// ---- following the room ----

	/** Joins by the welcome waiting for this device, or starts the group if nobody has. */
	/**
	 * Takes this device's place in the group: the state it kept, or the welcome waiting for it, or
	 * (nobody has made the group yet) a new group, which its first commit puts in the room's order.
	 * A group this device started whose first commit another device's beat is dropped: that other
	 * device's group is the room's, and this one waits for its welcome.
	 */
	async #enter(): Promise<void> {
		const device = this.#device!;
		const kept = await this.#store.loadGroup(this.#roomId);
		const { welcome: waiting, epoch } = await this.#api.welcome(this.#roomId, device.deviceId);
		const lost = kept !== null && groupEpoch(kept.state) === 0n && epoch > 0;
		if (kept && !lost && (!waiting || waiting.seq <= kept.joinedAt)) {
			this.#group = kept.state;
			this.#followed = kept.followed;
			this.#joinedAt = kept.joinedAt;
		} else if (waiting) {
			const stored = await this.#store.loadDevice();
			this.#group = await joinFromWelcome(
				device,
				stored?.keyPackages ?? [],
				waiting.welcome,
				this.#roomId
			);
			this.#followed = waiting.seq;
			this.#joinedAt = waiting.seq;
			await this.#save();
			// A key package is used once: its secret goes now that it let this device in.
			await forgetUsedKeyPackage(this.#store, waiting.welcome);
		} else if (epoch === 0) {
			this.#group = await startGroup(device, this.#roomId);
			this.#followed = 0;
			this.#joinedAt = 0;
		} else {
			if (lost) await this.#store.forgetGroup(this.#roomId);
			this.#group = null;
			this.ready = false;
			this.notice =
				'This device is not in this encrypted conversation yet: it joins when another member’s device is online.';
			await this.#api.knock(this.#roomId);
			return;
		}
		this.notice = null;
		await this.#catchUp();
		this.ready = this.#group !== null;
	}

	/** Applies and reads everything after `#followed`, in order, from the room's history. */
	async #catchUp(): Promise<void> {
		while (this.#group && !this.#closed) {
			const page = await fetchHistory(
				`/api/rooms/${this.#roomId}/messages?after=${this.#followed}`,
				HistoryPage
			);
			// Offline or refused: the next change of the timeline tries again.
			if (!page) return;
			// A message edited since comes as its edit, made later than the messages after it: read
			// after them, or its sender's keys for those would be skipped past.
			const edited: ChatMessage[] = [];
			for (const message of page.messages) {
				if (message.seq <= this.#followed) continue;
				if (message.kind === 'sealed' && message.editedAt !== undefined) edited.push(message);
				else await this.#apply(message);
				this.#followed = message.seq;
			}
			for (const message of edited) await this.#apply(message);
			await this.#save();
			this.#touch();
			if (!page.hasMore || page.messages.length === 0) return;
		}
	}

	async #apply(message: ChatMessage): Promise<void> {
		const group = this.#group!;
		if (message.kind === 'handshake') {
			if (message.senderId === this.#userId && this.#ownCommits.has(message.clientId)) return;
			try {
				const got = await receive(group, message.body);
				if (got.kind !== 'commit') return;
				this.#group = got.state;
				this.#lines.set(message.seq, this.#deviceLine(got.sender.userId, got.added, got.removed));
				if (got.removedSelf) {
					this.#group = null;
					this.ready = false;
					this.notice = 'This device was removed from this encrypted conversation.';
					await this.#store.forgetGroup(this.#roomId);
				}
			} catch (error) {
				// A commit this device made in another tab (or before a reload): MLS does not let a
				// device apply its own commit, and the state that tab saved is past it already.
				if (!(error instanceof ReceiveError)) throw error;
				if (message.senderId !== this.#userId) this.#lines.set(message.seq, HANDSHAKE_PREVIEW);
			}
			return;
		}
		if (message.kind !== 'sealed' || message.deletedAt !== undefined) return;
		const read = await this.#read(message);
		this.#bySeq.set(message.seq, read);
		if (read.kind === 'text') {
			await this.#store.putTexts(this.#roomId, [
				{
					seq: message.seq,
					cipher: message.body,
					content: {
						v: 1,
						kind: 'message',
						body: read.body,
						...(read.replyTo ? { replyTo: read.replyTo } : {}),
						...(read.files ? { files: read.files } : {})
					},
					senderId: message.senderId ?? '',
					createdAt: message.createdAt
				}
			]);
		}
	}

	async #read(message: ChatMessage): Promise<Read> {
		if (message.senderId === this.#userId) {
			const own =
				this.#own.get(message.clientId) ??
				(await this.#store.takeOwn(this.#roomId, message.clientId));
			if (own?.kind === 'message') {
				this.#byCipher.set(message.body, own);
				return { kind: 'text', body: own.body, replyTo: own.replyTo, files: own.files };
			}
		}
		try {
			const got = await receive(this.#group!, message.body);
			if (got.kind !== 'application') return { kind: 'unreadable', why: UNREADABLE };
			this.#group = got.state;
			const content = decodeContent(got.plaintext);
			// Its MLS sender is who the room says sent it; an edit (a message edited while this
			// device was away comes as its latest edit) names this very message.
			if (got.sender.userId !== message.senderId) return { kind: 'unreadable', why: UNREADABLE };
			if (content.kind === 'edit' && content.seq !== message.seq) {
				return { kind: 'unreadable', why: UNREADABLE };
			}
			if (content.kind === 'reaction') return { kind: 'unreadable', why: UNREADABLE };
			this.#byCipher.set(message.body, content);
			return content.kind === 'message'
				? { kind: 'text', body: content.body, replyTo: content.replyTo, files: content.files }
				: { kind: 'text', body: content.body, files: content.files };
		} catch {
			return { kind: 'unreadable', why: UNREADABLE };
		}
	}

	/** Reads what earlier visits read, from the store (MLS could not read it again). */
	async #recall(seqs: number[]): Promise<void> {
		const kept = await this.#store.getTexts(this.#roomId, seqs);
		for (const seq of seqs) {
			const entry = kept.get(seq);
			if (entry && entry.content.kind === 'message') {
				this.#bySeq.set(seq, {
					kind: 'text',
					body: entry.content.body,
					replyTo: entry.content.replyTo,
					files: entry.content.files
				});
				this.#byCipher.set(entry.cipher, entry.content);
			} else if (!this.#bySeq.has(seq)) {
				this.#bySeq.set(seq, {
					kind: 'unreadable',
					why: seq < this.#joinedAt ? BEFORE_JOINING : UNREADABLE
				});
			}
		}
		this.#touch();
	}

	/**
	 * Edits and reactions, by their ciphertext: from the store, else decrypted now (in order). One
	 * counts only if its MLS sender is someone the room says sent it (the edited message's sender,
	 * one of those who reacted): the room cannot forge what a member's device signed.
	 */
	async #readCiphers(ciphers: ReadonlyMap<string, readonly string[]>): Promise<void> {
		const kept = await this.#store.getCiphers(this.#roomId, [...ciphers.keys()]);
		for (const [cipher, content] of kept) this.#byCipher.set(cipher, content);
		const unknown = [...ciphers.keys()].filter((c) => !this.#byCipher.has(c));
		if (unknown.length > 0) {
			await this.#serial(async () => {
				for (const cipher of unknown) {
					if (this.#byCipher.has(cipher) || !this.#group) continue;
					try {
						const got = await receive(this.#group, cipher);
						if (got.kind !== 'application') continue;
						this.#group = got.state;
						if (!ciphers.get(cipher)?.includes(got.sender.userId)) continue;
						await this.#keep(cipher, decodeContent(got.plaintext), got.sender.userId);
					} catch {
						// Mine (a sender cannot read its own), or not for this device: shown as is.
					}
				}
				await this.#save();
			});
		}
		this.#touch();
	}

	/**
	 * Reactions as emoji: each encrypted one read (and only if it names this message), and any
	 * plain ones from before a direct conversation was switched to encryption.
	 */
	#reactions(seq: number, reactions: Record<string, string[]>): Record<string, string[]> {
		const shown: Record<string, string[]> = {};
		for (const [key, users] of Object.entries(reactions)) {
			const content = isReactionEmoji(key) ? null : this.#byCipher.get(key);
			const emoji = isReactionEmoji(key)
				? key
				: content?.kind === 'reaction' && content.seq === seq
					? content.emoji
					: null;
			if (!emoji) continue;
			shown[emoji] = [...new Set([...(shown[emoji] ?? []), ...users])];
		}
		return shown;
	}

	#deviceLine(actorId: string, added: DeviceRef[], removed: DeviceRef[]): string {
		const whose = (devices: DeviceRef[]) =>
			[
				...new Set(
					devices.map((d) => (d.userId === this.#userId ? 'your' : `${this.#names(d.userId)}’s`))
				)
			].join(', ');
		const parts = [
			...(added.length
				? [`added ${whose(added)} ${added.length === 1 ? 'device' : 'devices'}`]
				: []),
			...(removed.length
				? [`removed ${whose(removed)} ${removed.length === 1 ? 'device' : 'devices'}`]
				: [])
		];
		const who = actorId === this.#userId ? 'You' : this.#names(actorId);
		return parts.length ? `🔒 ${who} ${parts.join(' and ')}` : HANDSHAKE_PREVIEW;
	}

	async #seal(content: Content): Promise<string> {
		return this.#serial(async () => {
			if (!this.#group) throw new Error(this.notice ?? 'This device cannot send here yet.');
			const made = await encryptMessage(this.#group, encodeContent(content));
			this.#group = made.state;
			await this.#save();
			return made.ciphertext;
		});
	}

	async #save(): Promise<void> {
		if (!this.#group) return;
		await this.#store.saveGroup(this.#roomId, {
			state: this.#group,
			followed: this.#followed,
			joinedAt: this.#joinedAt
		});
	}

	/**
	 * Runs `work` after everything queued before it, holding the room's lock across this browser's
	 * tabs: two tabs of one device must never encrypt from copies of one group state (a key would
	 * be used twice), so each takes the state the other saved before it goes on.
	 */
	#serial<T>(work: () => Promise<T>): Promise<T> {
		const locked = () =>
			navigator.locks.request(`parley-e2ee:${this.#userId}:${this.#roomId}`, async () => {
				if (this.#group) await this.#reload();
				return work();
			});
		const next = this.#queue.then(locked, locked);
		this.#queue = next.catch(() => {});
		return next as Promise<T>;
	}

	/** Takes the group as another tab of this device may have moved it on. */
	async #reload(): Promise<void> {
		const kept = await this.#store.loadGroup(this.#roomId);
		if (!kept) {
			this.#group = null;
			this.ready = false;
			return;
		}
		if (kept.followed < this.#followed) return;
		const moved = kept.followed > this.#followed;
		this.#group = kept.state;
		this.#followed = kept.followed;
		this.#joinedAt = kept.joinedAt;
		// What the other tab read on the way is in the store, not here: read it from there.
		if (moved) this.#recallRead();
	}

	/** The timeline's sealed messages this device has read (here or in another tab) but not kept here. */
	#recallRead(): void {
		const seqs = this.#latest
			.filter((m) => m.kind === 'sealed' && m.seq <= this.#followed && !this.#bySeq.has(m.seq))
			.map((m) => m.seq);
		if (seqs.length > 0) void this.#recall(seqs);
	}

	#touch(): void {
		this.version++;
	}
}

/** A stored file of my message as the message describes it to the group (docs/e2ee.md, "Files"). */
function sealedFileOf(file: OutboxFile): SealedFile {
	if (!file.uploaded || !file.secret) throw new Error('A file of this message was not encrypted.');
	return {
		id: file.uploaded.id,
		name: file.name.slice(0, MAX_SEALED_FILE_NAME),
		type: file.blob.type,
		size: file.blob.size,
		...file.secret,
		...(file.width ? { width: file.width } : {}),
		...(file.height ? { height: file.height } : {}),
		...(file.placeholder ? { placeholder: file.placeholder } : {})
	};
}
