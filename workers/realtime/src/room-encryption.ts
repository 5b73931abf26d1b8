// An end-to-end encrypted room (docs/e2ee.md): the room is the MLS delivery service. It cannot read
// a word, but it checks what it is given by the MLS framing alone (which group, which epoch, which
// content type: no keys needed), and it puts the group's commits in one order, its `seq`: a commit
// is taken only from the epoch the group is in, so every device applies the same commits in the
// same order. The welcomes that let a new device in wait here for it.
import {
	ErrorCode,
	MAX_HANDSHAKE_LENGTH,
	MAX_SEALED_LENGTH,
	MAX_SEALED_REACTION_LENGTH,
	isBase64,
	type ErrorCode as ErrorCodeType
} from '../../../shared/protocol';
import { groupIdText, readMlsEnvelope } from '../../../shared/e2ee/mls';
import { readMeta, writeMeta } from './meta';

type Problem = { code: ErrorCodeType; message: string };

const NOT_SEALED: Problem = {
	code: ErrorCode.Encryption,
	message:
		'This conversation is end-to-end encrypted: what is sent must be encrypted on your device.'
};

/** What an encrypted room's `send`, `edit` or `react` carries: ciphertext of one length or another. */
export type SealedUse = 'message' | 'reaction';

const LIMITS: Record<SealedUse, number> = {
	message: MAX_SEALED_LENGTH,
	reaction: MAX_SEALED_REACTION_LENGTH
};

export class RoomEncryption {
	#sql: SqlStorage;
	#on: boolean;
	/** The epoch the group is in: the next commit must be made from it. */
	#epoch: number;

	constructor(sql: SqlStorage) {
		this.#sql = sql;
		this.#on = readMeta(sql, 'encryption') === 'mls';
		this.#epoch = Number(readMeta(sql, 'mls_epoch') ?? 0);
	}

	get on(): boolean {
		return this.#on;
	}

	get epoch(): number {
		return this.#epoch;
	}

	/**
	 * The room is end-to-end encrypted (D1 says so, set when the room was made). Never undone: a
	 * room once encrypted takes nothing in the clear again. Idempotent.
	 */
	enable(): void {
		if (this.#on) return;
		this.#on = true;
		writeMeta(this.#sql, 'encryption', 'mls');
	}

	/**
	 * Why `text` is not what this room's members may send as a message (or a reaction), or null:
	 * an application message of this room's group, from an epoch it has been in.
	 */
	sealedProblem(roomId: string, text: string, use: SealedUse): Problem | null {
		if (text.length > LIMITS[use]) {
			return {
				code: ErrorCode.MessageTooLong,
				message: `Encrypted, this is longer than the ${LIMITS[use]} characters a ${use} may take.`
			};
		}
		const envelope = isBase64(text) ? readMlsEnvelope(text) : null;
		if (
			!envelope ||
			envelope.wireformat !== 'private' ||
			envelope.contentType !== 'application' ||
			envelope.groupId !== groupIdText(roomId) ||
			envelope.epoch === undefined ||
			envelope.epoch > BigInt(this.#epoch)
		) {
			return NOT_SEALED;
		}
		return null;
	}

	/**
	 * Why a commit may not take the next place in the group's order, or null. `epoch` is the one
	 * its maker says it was made from; the MLS framing must say the same.
	 */
	commitProblem(roomId: string, commit: string, epoch: number): Problem | null {
		if (!this.#on) {
			return {
				code: ErrorCode.Encryption,
				message: 'This conversation is not end-to-end encrypted.'
			};
		}
		if (commit.length > MAX_HANDSHAKE_LENGTH) {
			return {
				code: ErrorCode.MessageTooLong,
				message: `A commit may take at most ${MAX_HANDSHAKE_LENGTH} characters.`
			};
		}
		const envelope = isBase64(commit) ? readMlsEnvelope(commit) : null;
		if (
			!envelope ||
			(envelope.wireformat !== 'private' && envelope.wireformat !== 'public') ||
			envelope.contentType !== 'commit' ||
			envelope.groupId !== groupIdText(roomId) ||
			envelope.epoch !== BigInt(epoch)
		) {
			return {
				code: ErrorCode.Encryption,
				message: "Not a commit of this conversation's group from the epoch it names."
			};
		}
		if (epoch !== this.#epoch) {
			return {
				code: ErrorCode.StaleEpoch,
				message: `The group is at epoch ${this.#epoch}: apply the newer commits, then commit again.`
			};
		}
		return null;
	}

	/** A commit took its place: the group is in the next epoch. Same step as the commit's append. */
	advance(): void {
		this.#epoch += 1;
		writeMeta(this.#sql, 'mls_epoch', String(this.#epoch));
	}

	/**
	 * Keeps the welcome of a commit for each device it adds, until that device fetches it (a later
	 * welcome for the same device replaces it: it was added again).
	 */
	keepWelcome(deviceIds: readonly string[], seq: number, welcome: string): void {
		for (const deviceId of deviceIds) {
			this.#sql.exec(
				`INSERT INTO welcomes (device_id, seq, welcome) VALUES (?, ?, ?)
				 ON CONFLICT(device_id) DO UPDATE SET seq = excluded.seq, welcome = excluded.welcome`,
				deviceId,
				seq,
				welcome
			);
		}
	}

	/** The welcome that adds this device to the group, and the seq of its commit; null if none. */
	welcomeFor(deviceId: string): { seq: number; welcome: string } | null {
		return (
			this.#sql
				.exec<{ seq: number; welcome: string }>(
					'SELECT seq, welcome FROM welcomes WHERE device_id = ?',
					deviceId
				)
				.toArray()[0] ?? null
		);
	}
}
