// What a person reads when the room turns something down. The room's `error` frames carry a
// `code` and a `message`; the message is written for API clients and developers ("Too many frames;
// slow down."), so the browser shows the sentence chosen here by the code instead.

import { ErrorCode, MAX_MESSAGE_LENGTH, MAX_REACTIONS_PER_MESSAGE } from '$shared/protocol';
import { describeWait } from '$shared/durations';

const count = new Intl.NumberFormat('en');

/** One sentence for people per error code the protocol defines. */
export const ERROR_TEXT: Record<ErrorCode, string> = {
	[ErrorCode.BadFrame]: 'Something went wrong sending that. Reload the page and try again.',
	[ErrorCode.FrameTooLarge]: 'That is too long to send. Try something shorter.',
	[ErrorCode.MessageTooLong]: `Messages can be up to ${count.format(MAX_MESSAGE_LENGTH)} characters. Shorten it and try again.`,
	[ErrorCode.EmptyMessage]: 'Write something before sending.',
	[ErrorCode.RateLimited]: 'You’re sending very fast — wait a moment and try again.',
	[ErrorCode.DuplicateHello]: 'The connection got mixed up. Reload the page to catch up.',
	[ErrorCode.NotFound]: 'That message is no longer there: it may have been deleted.',
	[ErrorCode.Forbidden]: 'You can only change or delete your own messages.',
	[ErrorCode.InvalidReaction]: `A message can have up to ${MAX_REACTIONS_PER_MESSAGE} different reactions. Add one of those already there.`,
	[ErrorCode.InvalidAttachment]: 'That file can’t be attached. Upload it again and resend.',
	[ErrorCode.SlowMode]: 'Slow mode is on in this room: your message goes when it allows.',
	[ErrorCode.TimedOut]:
		'An admin timed you out in this room: your message goes when the time-out ends.',
	[ErrorCode.Encryption]:
		'This conversation is end-to-end encrypted, and that could not be encrypted for it. Reload the page and try again.',
	[ErrorCode.StaleEpoch]:
		'Someone changed this conversation’s devices at the same moment. Try again.',
	[ErrorCode.Internal]: 'Something went wrong on our side. Try again.'
};

/** Shown for a code this browser does not know (a newer room may add some). */
export const UNKNOWN_ERROR_TEXT = 'Something went wrong. Try again.';

/** The words a person sees for a refusal from the room, by its code (and its wait, if it says). */
export function errorText(error: { code: string; retryAfterMs?: number }): string {
	const wait = error.retryAfterMs;
	if (wait !== undefined && error.code === ErrorCode.SlowMode) {
		return `Slow mode is on in this room: your message goes in ${describeWait(wait)}.`;
	}
	if (wait !== undefined && error.code === ErrorCode.TimedOut) {
		return `An admin timed you out in this room: your message goes in ${describeWait(wait)}.`;
	}
	return Object.hasOwn(ERROR_TEXT, error.code)
		? ERROR_TEXT[error.code as ErrorCode]
		: UNKNOWN_ERROR_TEXT;
}
