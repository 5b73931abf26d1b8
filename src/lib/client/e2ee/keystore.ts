// What this browser keeps as a device of a person's end-to-end encrypted conversations
// (docs/e2ee.md), in one IndexedDB database per person, `parley-e2ee:<userId>`: the device and the
// secrets of its published key packages, each room's group state, the text it decrypted (MLS keys
// are used once, so a message can be decrypted once only), the search index of that text, and the
// contacts whose safety number the person checked. Everything read back is checked: it may have
// been written by another version of the app, or by hand in the devtools.
//
// The secrets (the device, its key packages' private halves, group states) are stored wrapped:
// AES-GCM under a key that is made here, non-extractable, and kept in the same database. Script
// can use that key but never read it out, so what is on disk, or copied out of it, is of no use
// without this browser. The decrypted text is not wrapped (see `putTexts`).
import {
	openDB,
	type DBSchema,
	type IDBPDatabase,
	type IDBPObjectStore,
	type StoreNames
} from 'idb';
import * as v from 'valibot';
import {
	decodeContent,
	encodeContent,
	loadDevice as readDevice,
	loadGroup as readGroup,
	saveDevice as writeDevice,
	saveGroup as writeGroup,
	type Content,
	type Device,
	type GroupState,
	type StoredKeyPackage
} from './engine';

import { e2eeDbName } from '../local-data';

export { e2eeDbName };

const DB_VERSION = 1;

// ---- wrapping secrets (Web Crypto; no IndexedDB, so unit-tested in workerd) ----

/** A secret as stored: AES-GCM with a random 12-byte IV. */
export type WrappedSecret = { iv: Uint8Array<ArrayBuffer>; data: Uint8Array<ArrayBuffer> };

const WrappedSecret = v.object({
	iv: v.pipe(
		v.instance(Uint8Array<ArrayBuffer>),
		v.check((iv) => iv.length === 12)
	),
	data: v.instance(Uint8Array<ArrayBuffer>)
});

/** The key secrets are wrapped with: AES-256-GCM, usable by script but never readable. */
export function newWrappingKey(): Promise<CryptoKey> {
	return crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']);
}

// The slot a secret is kept in (`device`, `group:<roomId>`) is its additional data, so a secret
// copied into another slot (one room's group state into another's) does not unwrap there.
function aesGcm(iv: Uint8Array<ArrayBuffer>, slot: string): AesGcmParams {
	return { name: 'AES-GCM', iv, additionalData: new TextEncoder().encode(slot) };
}

export async function wrapSecret(
	key: CryptoKey,
	secret: Uint8Array,
	slot: string
): Promise<WrappedSecret> {
	const iv = crypto.getRandomValues(new Uint8Array(12));
	const data = await crypto.subtle.encrypt(aesGcm(iv, slot), key, new Uint8Array(secret));
	return { iv, data: new Uint8Array(data) };
}

/** The secret wrapped in `slot`; throws when it was wrapped elsewhere, with another key, or changed. */
export async function unwrapSecret(
	key: CryptoKey,
	wrapped: WrappedSecret,
	slot: string
): Promise<Uint8Array<ArrayBuffer>> {
	return new Uint8Array(await crypto.subtle.decrypt(aesGcm(wrapped.iv, slot), key, wrapped.data));
}

// ---- words for local search (no IndexedDB, so unit-tested in workerd) ----

/**
 * The distinct words of a text as the search index keeps them: lower-cased, diacritics dropped
 * (`é` is found by `e`), split at anything but letters and digits. A query is split the same way.
 */
export function searchWords(text: string): string[] {
	const folded = text.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();
	return [...new Set(folded.match(/[\p{L}\p{N}]+/gu) ?? [])];
}

// ---- what is stored ----

/** This browser as a device, with whether it is approved and its key packages' private halves. */
export type DeviceRecord = { device: Device; approved: boolean; keyPackages: StoredKeyPackage[] };

/**
 * A room's group as this device follows it: `followed` is the highest room `seq` it has applied,
 * `joinedAt` the seq of the commit that welcomed it (or that made the group).
 */
export type GroupRecord = { state: GroupState; followed: number; joinedAt: number };

/** A message's decrypted content at its seq, with the ciphertext it came from. */
export type TextEntry = {
	seq: number;
	cipher: string;
	content: Content;
	senderId: string;
	createdAt: number;
};

export type SearchHit = {
	roomId: string;
	seq: number;
	body: string;
	createdAt: number;
	senderId: string;
};

const Seq = v.pipe(v.number(), v.integer(), v.minValue(0));
const MessageSeq = v.pipe(v.number(), v.integer(), v.minValue(1));

/** Content as the engine defines it, or an issue: checked by encoding it as a message would be. */
const StoredContent = v.pipe(
	v.unknown(),
	v.rawTransform(({ dataset, addIssue, NEVER }) => {
		try {
			return decodeContent(encodeContent(dataset.value as Content));
		} catch {
			addIssue({ message: 'not message content' });
			return NEVER;
		}
	})
);

const StoredKeyPackages = v.array(
	v.object({ keyPackage: v.string(), initPrivateKey: v.string(), hpkePrivateKey: v.string() })
);

/** The device record inside its wrapping: JSON, with the device as the engine saves it. */
const DeviceJson = v.object({
	device: v.unknown(),
	approved: v.boolean(),
	keyPackages: StoredKeyPackages
});

const GroupRow = v.object({
	roomId: v.string(),
	state: WrappedSecret,
	followed: Seq,
	joinedAt: Seq
});
type GroupRow = v.InferOutput<typeof GroupRow>;

const TextRow = v.object({
	roomId: v.string(),
	seq: MessageSeq,
	cipher: v.string(),
	/** The message as sent (its `replyTo` with it), or its newest edit when only that was seen. */
	content: StoredContent,
	senderId: v.string(),
	createdAt: v.number(),
	/** The ciphertexts of the edits kept for this seq (in `ciphers` too), oldest first. */
	edits: v.array(v.string()),
	/** What the seq is found by: its newest edit's text, else its own. */
	body: v.string()
});
type TextRow = v.InferOutput<typeof TextRow>;

type CipherRow = { roomId: string; cipher: string; content: Content };
type OwnRow = { roomId: string; clientId: string; content: Content };
/** One word of one message; `createdAt` orders hits without reading their messages. */
type WordRow = { word: string; roomId: string; seq: number; createdAt: number };
type VerifiedRow = { userId: string; fingerprint: string };

interface E2eeDb extends DBSchema {
	/** The wrapping key, one entry (`WRAPPING_KEY`). */
	keys: { key: string; value: CryptoKey };
	/** The device record, wrapped, one entry (`DEVICE_SLOT`). */
	device: { key: string; value: WrappedSecret };
	groups: { key: string; value: GroupRow };
	texts: { key: [string, number]; value: TextRow };
	/** Edits and reactions, found by their ciphertext. */
	ciphers: { key: [string, string]; value: CipherRow };
	/** What this device sent, until the room's copy of it comes back (see `putOwn`). */
	own: { key: [string, string]; value: OwnRow };
	words: { key: [string, string, number]; value: WordRow; indexes: { text: [string, number] } };
	verified: { key: string; value: VerifiedRow };
}

type E2eeDatabase = IDBPDatabase<E2eeDb>;

const STORES = [
	'keys',
	'device',
	'groups',
	'texts',
	'ciphers',
	'own',
	'words',
	'verified'
] as const;
const WRAPPING_KEY = 'wrapping';
const DEVICE_SLOT = 'device';
const groupSlot = (roomId: string) => `group:${roomId}`;

/** Every key of a room in a store keyed `[roomId, …]`: arrays sort after numbers and strings. */
function roomRange(roomId: string): IDBKeyRange {
	return IDBKeyRange.bound([roomId], [roomId, []]);
}

function checkedContent(content: Content): Content {
	encodeContent(content); // throws a ContentError for anything a message could not carry
	return content;
}

/** The text a message or an edit at the entry's seq carries; a reaction is the text of no seq. */
function textOf({ seq, content }: TextEntry): string {
	checkedContent(content);
	if (content.kind === 'reaction') {
		throw new Error('A reaction is not the text of a seq: keep it with putCipher.');
	}
	if (content.kind === 'edit' && content.seq !== seq) {
		throw new Error(`An edit of seq ${content.seq} is not the text of seq ${seq}.`);
	}
	return content.body;
}

/** The row a text entry makes, given what was kept for its seq before. */
function textRow(roomId: string, entry: TextEntry, kept: TextRow | null): TextRow {
	const { seq, cipher, content, senderId, createdAt } = entry;
	const body = textOf(entry);
	if (content.kind === 'message') {
		// An edit always comes after its message: a message seen later keeps the edit's text.
		const edits = kept?.edits ?? [];
		const found = kept && edits.length > 0 ? kept.body : body;
		return { roomId, seq, cipher, content, senderId, createdAt, edits, body: found };
	}
	if (kept?.edits.includes(cipher)) return kept; // an edit seen again is not newer
	return kept
		? { ...kept, edits: [...kept.edits, cipher], body }
		: { roomId, seq, cipher, content, senderId, createdAt, edits: [cipher], body };
}

type WordsStore = IDBPObjectStore<E2eeDb, ArrayLike<StoreNames<E2eeDb>>, 'words', 'readwrite'>;

async function unindex(words: WordsStore, query: IDBKeyRange | [string, number]) {
	for (const key of await words.index('text').getAllKeys(query)) await words.delete(key);
}

async function indexText(words: WordsStore, row: TextRow) {
	const { roomId, seq, createdAt } = row;
	await unindex(words, [roomId, seq]);
	for (const word of searchWords(row.body)) await words.put({ word, roomId, seq, createdAt });
}

function newestFirst(a: WordRow, b: WordRow): number {
	return b.createdAt - a.createdAt || b.seq - a.seq || (a.roomId < b.roomId ? -1 : 1);
}

/** Everything one person's browser keeps as a device of their encrypted conversations. */
export class E2eeStore {
	readonly userId: string;
	#db: Promise<E2eeDatabase> | null = null;

	private constructor(userId: string) {
		this.userId = userId;
	}

	/** The person's store; refused where there is no IndexedDB (some private modes). */
	static async open(userId: string): Promise<E2eeStore> {
		if (typeof indexedDB === 'undefined') {
			throw new Error('This browser keeps no data for sites, so it cannot hold encryption keys.');
		}
		const store = new E2eeStore(userId);
		await store.#connection();
		return store;
	}

	#connection(): Promise<E2eeDatabase> {
		if (this.#db) return this.#db;
		const forget = () => (this.#db = null);
		const opening = openDB<E2eeDb>(e2eeDbName(this.userId), DB_VERSION, {
			upgrade(db) {
				db.createObjectStore('keys');
				db.createObjectStore('device');
				db.createObjectStore('groups', { keyPath: 'roomId' });
				db.createObjectStore('texts', { keyPath: ['roomId', 'seq'] });
				db.createObjectStore('ciphers', { keyPath: ['roomId', 'cipher'] });
				db.createObjectStore('own', { keyPath: ['roomId', 'clientId'] });
				db.createObjectStore('words', { keyPath: ['word', 'roomId', 'seq'] }).createIndex('text', [
					'roomId',
					'seq'
				]);
				db.createObjectStore('verified', { keyPath: 'userId' });
			},
			// Another tab deletes or upgrades the database: let it go; the next call opens it again.
			blocking() {
				forget();
				void opening.then((db) => db.close());
			},
			terminated: forget
		});
		this.#db = opening;
		opening.catch(forget);
		return opening;
	}

	// Read from the database every time, never kept in memory: another tab may have forgotten the
	// device, and so the key, and made a new one since.
	async #wrappingKey(): Promise<CryptoKey> {
		const db = await this.#connection();
		const kept = await db.get('keys', WRAPPING_KEY);
		if (kept) return kept;
		const made = await newWrappingKey();
		// Another tab may have made one meanwhile: the first kept is the database's.
		const tx = db.transaction('keys', 'readwrite');
		const raced = await tx.store.get(WRAPPING_KEY);
		if (!raced) await tx.store.put(made, WRAPPING_KEY);
		await tx.done;
		return raced ?? made;
	}

	async #unwrap(wrapped: unknown, slot: string): Promise<Uint8Array<ArrayBuffer>> {
		const parsed = v.safeParse(WrappedSecret, wrapped);
		if (!parsed.success) throw new Error(`The ${slot} kept in this browser is unreadable.`);
		try {
			return await unwrapSecret(await this.#wrappingKey(), parsed.output, slot);
		} catch {
			throw new Error(`The ${slot} kept in this browser cannot be unwrapped with its key.`);
		}
	}

	// ---- the device ----

	async loadDevice(): Promise<DeviceRecord | null> {
		const wrapped = await (await this.#connection()).get('device', DEVICE_SLOT);
		if (wrapped === undefined) return null;
		const bytes = await this.#unwrap(wrapped, DEVICE_SLOT);
		const parsed = v.safeParse(DeviceJson, JSON.parse(new TextDecoder().decode(bytes)));
		if (!parsed.success) throw new Error('The device kept in this browser is unreadable.');
		const { device, approved, keyPackages } = parsed.output;
		return { device: readDevice(device), approved, keyPackages };
	}

	async saveDevice(record: DeviceRecord): Promise<void> {
		const json = JSON.stringify({
			device: writeDevice(record.device),
			approved: record.approved,
			keyPackages: record.keyPackages
		});
		const key = await this.#wrappingKey();
		const wrapped = await wrapSecret(key, new TextEncoder().encode(json), DEVICE_SLOT);
		await (await this.#connection()).put('device', wrapped, DEVICE_SLOT);
	}

	/** This browser stops being a device: everything in the database goes, the wrapping key too. */
	async forgetDevice(): Promise<void> {
		const tx = (await this.#connection()).transaction(STORES, 'readwrite');
		await Promise.all([...STORES.map((name) => tx.objectStore(name).clear()), tx.done]);
	}

	// ---- groups ----

	async loadGroup(roomId: string): Promise<GroupRecord | null> {
		const stored = await (await this.#connection()).get('groups', roomId);
		if (stored === undefined) return null;
		const row = v.safeParse(GroupRow, stored);
		if (!row.success || row.output.roomId !== roomId) {
			throw new Error('The conversation’s keys kept in this browser are unreadable.');
		}
		const { state, followed, joinedAt } = row.output;
		return { state: readGroup(await this.#unwrap(state, groupSlot(roomId))), followed, joinedAt };
	}

	async saveGroup(roomId: string, record: GroupRecord): Promise<void> {
		const key = await this.#wrappingKey();
		const state = await wrapSecret(key, writeGroup(record.state), groupSlot(roomId));
		const { followed, joinedAt } = record;
		await (await this.#connection()).put('groups', { roomId, state, followed, joinedAt });
	}

	async forgetGroup(roomId: string): Promise<void> {
		await (await this.#connection()).delete('groups', roomId);
	}

	/** The rooms whose groups this device is in. */
	async groupRoomIds(): Promise<string[]> {
		return (await (await this.#connection()).getAllKeys('groups')).map(String);
	}

	// ---- decrypted text ----
	// Kept unwrapped: it is what the screen shows and what search reads, at every render, and it
	// is no secret from this browser, which could decrypt it. The keys are what stay wrapped.

	/**
	 * Keeps decrypted messages at their seqs. An entry whose content is an edit (`kind: 'edit'`)
	 * does not replace its message: it is kept by its ciphertext (`getCiphers`), and its text
	 * becomes what the seq is found by; an edit already kept is not newer. A reaction is refused.
	 */
	async putTexts(roomId: string, entries: TextEntry[]): Promise<void> {
		// Checked before the transaction: one refused entry leaves none of them written.
		for (const entry of entries) textOf(entry);
		const tx = (await this.#connection()).transaction(['texts', 'ciphers', 'words'], 'readwrite');
		const texts = tx.objectStore('texts');
		for (const entry of entries) {
			const kept = v.safeParse(TextRow, await texts.get([roomId, entry.seq]));
			const row = textRow(roomId, entry, kept.success ? kept.output : null);
			if (entry.content.kind === 'edit') {
				const { cipher, content } = entry;
				await tx.objectStore('ciphers').put({ roomId, cipher, content });
			}
			await texts.put(row);
			await indexText(tx.objectStore('words'), row);
		}
		await tx.done;
	}

	/** What was kept at these seqs (the message as sent, or its edit when only that was seen). */
	async getTexts(roomId: string, seqs: readonly number[]): Promise<Map<number, TextEntry>> {
		const texts = (await this.#connection()).transaction('texts').store;
		const found = new Map<number, TextEntry>();
		for (const seq of seqs) {
			const stored = await texts.get([roomId, seq]);
			if (stored === undefined) continue;
			const row = v.safeParse(TextRow, stored);
			if (!row.success || row.output.roomId !== roomId || row.output.seq !== seq) {
				console.warn('e2ee store: skipping an unreadable message');
				continue;
			}
			const { cipher, content, senderId, createdAt } = row.output;
			found.set(seq, { seq, cipher, content, senderId, createdAt });
		}
		return found;
	}

	/** The message at a seq was deleted: its text, its edits and its words go. */
	async deleteText(roomId: string, seq: number): Promise<void> {
		const tx = (await this.#connection()).transaction(['texts', 'ciphers', 'words'], 'readwrite');
		const kept = v.safeParse(TextRow, await tx.objectStore('texts').get([roomId, seq]));
		for (const cipher of kept.success ? kept.output.edits : []) {
			await tx.objectStore('ciphers').delete([roomId, cipher]);
		}
		await tx.objectStore('texts').delete([roomId, seq]);
		await unindex(tx.objectStore('words'), [roomId, seq]);
		await tx.done;
	}

	/** Keeps an edit's or a reaction's content by its ciphertext (an edit's text: `putTexts`). */
	async putCipher(roomId: string, cipher: string, content: Content): Promise<void> {
		const row = { roomId, cipher, content: checkedContent(content) };
		await (await this.#connection()).put('ciphers', row);
	}

	async getCiphers(roomId: string, ciphers: readonly string[]): Promise<Map<string, Content>> {
		const store = (await this.#connection()).transaction('ciphers').store;
		const found = new Map<string, Content>();
		for (const cipher of ciphers) {
			const row = await store.get([roomId, cipher]);
			if (row === undefined) continue;
			const content = v.safeParse(StoredContent, row.content);
			if (content.success) found.set(cipher, content.output);
			else console.warn('e2ee store: skipping an unreadable edit or reaction');
		}
		return found;
	}

	/**
	 * What this device sent under `clientId`: a sender cannot decrypt its own MLS message, so the
	 * content is kept from the send until the room's copy comes back (`takeOwn`).
	 */
	async putOwn(roomId: string, clientId: string, content: Content): Promise<void> {
		const row = { roomId, clientId, content: checkedContent(content) };
		await (await this.#connection()).put('own', row);
	}

	/** The content sent under `clientId`, taken out of the store; null if none was kept. */
	async takeOwn(roomId: string, clientId: string): Promise<Content | null> {
		const tx = (await this.#connection()).transaction('own', 'readwrite');
		const row = await tx.store.get([roomId, clientId]);
		if (row !== undefined) await tx.store.delete([roomId, clientId]);
		await tx.done;
		const content = v.safeParse(StoredContent, row?.content);
		return content.success ? content.output : null;
	}

	// ---- local search ----

	/**
	 * Messages whose text has every word of the query, each as the start of one of its words
	 * ("caf" finds "Café"), newest first. An edited message is found by its newest text only.
	 */
	async search(query: string, limit: number): Promise<SearchHit[]> {
		const words = searchWords(query);
		if (words.length === 0 || limit <= 0) return [];
		const tx = (await this.#connection()).transaction(['words', 'texts']);
		const index = tx.objectStore('words');
		const found = await Promise.all(
			words.map(async (word) => {
				const rows = await index.getAll(IDBKeyRange.bound([word], [`${word}\uffff`]));
				return new Map(rows.map((row) => [`${row.roomId}\n${row.seq}`, row]));
			})
		);
		found.sort((a, b) => a.size - b.size);
		const [fewest, ...others] = found;
		const hits = [...(fewest?.values() ?? [])]
			.filter((row) => others.every((rows) => rows.has(`${row.roomId}\n${row.seq}`)))
			.sort(newestFirst);
		const answer: SearchHit[] = [];
		for (const hit of hits) {
			if (answer.length === limit) break;
			const row = v.safeParse(TextRow, await tx.objectStore('texts').get([hit.roomId, hit.seq]));
			if (!row.success) continue;
			const { roomId, seq, body, createdAt, senderId } = row.output;
			answer.push({ roomId, seq, body, createdAt, senderId });
		}
		await tx.done;
		return answer;
	}

	// ---- safety numbers checked ----

	/** The safety number the person checked with `userId`, or null to forget it. */
	async setVerified(userId: string, fingerprint: string | null): Promise<void> {
		const db = await this.#connection();
		if (fingerprint === null) await db.delete('verified', userId);
		else await db.put('verified', { userId, fingerprint });
	}

	async getVerified(userId: string): Promise<string | null> {
		const row = await (await this.#connection()).get('verified', userId);
		return typeof row?.fingerprint === 'string' ? row.fingerprint : null;
	}

	/** The room is no longer this device's: its group, texts, edits, reactions, sends and words go. */
	async forgetRoom(roomId: string): Promise<void> {
		const tx = (await this.#connection()).transaction(
			['groups', 'texts', 'ciphers', 'own', 'words'],
			'readwrite'
		);
		const range = roomRange(roomId);
		await Promise.all([
			tx.objectStore('groups').delete(roomId),
			tx.objectStore('texts').delete(range),
			tx.objectStore('ciphers').delete(range),
			tx.objectStore('own').delete(range),
			unindex(tx.objectStore('words'), range),
			tx.done
		]);
	}
}
