import { fail, redirect } from '@sveltejs/kit';
import * as v from 'valibot';
import { requireAccess } from '$lib/server/rooms/authz';
import { deny, type Done } from '$lib/server/outcome';
import { listRoomMedia } from '$lib/server/files/media';
import { peerNameOf } from '$lib/server/rooms/direct-rooms';
import { parseForm, rejectForm } from '$lib/server/forms';
import {
	INVITE_LIFETIMES,
	createInvite,
	listInvites,
	revokeInvite
} from '$lib/server/rooms/invites';
import {
	field,
	refuse,
	requireSignedIn,
	roomAccessFor,
	type Signed
} from '$lib/server/request-context';
import { deleteRoom, updateRoomDetails } from '$lib/server/rooms/admin';
import * as members from '$lib/server/rooms/members';
import { updateMemberSettings } from '$lib/server/rooms/settings';
import * as bots from '$lib/server/bots/bots';
import { deleteOutgoingWebhook, saveOutgoingWebhook } from '$lib/server/bots/outgoing-webhooks';
import { isProduction } from '$lib/server/app-env';
import { e2eeMaxMembers } from '$lib/server/e2ee/rooms';
import { platformEnv } from '$lib/server/db';
import { parseRetention, retentionChoices, setRetention } from '$lib/server/rooms/retention';
import {
	endTimeOut,
	listTimeOuts,
	setSlowMode,
	timeOutMember
} from '$lib/server/moderation/room-moderation';
import { TOKEN_LIFETIMES, TOKEN_SCOPES } from '$lib/server/api/tokens';
import * as reports from '$lib/server/moderation/reports';
import { encryptDirectRoom } from '$lib/server/e2ee/rooms';
import { BotTokenOptions, Details, InviteOptions, Settings } from './forms';
import { detailsHref, sectionIn } from './sections';
import type { Actions, PageServerLoad, RequestEvent } from './$types';

/** Reports per page of the Reports section: each is shown with the conversation around it. */
const ROOM_REPORTS_PAGE = 20;

export const load: PageServerLoad = async (event) => {
	const { user, db, rt } = requireSignedIn(event);
	const access = requireAccess(await roomAccessFor(event, event.params.id), 'read');
	const { room, membership } = access;
	const admin = room.kind !== 'direct' && membership!.role !== 'member';
	// `?media_before=` pages the media panel back in time (a link, so it works without JavaScript).
	const mediaBefore = event.url.searchParams.get('media_before');
	// The Reports section shows the open reports, or with `?reports=resolved` the handled ones;
	// `?reports_before=` pages back. Only the room's owner and admins see any.
	const handlesReports = reports.handlesRoomReports(access);
	const reportStatus =
		event.url.searchParams.get('reports') === 'resolved'
			? ('resolved' as const)
			: ('open' as const);
	const reportsBefore = event.url.searchParams.get('reports_before');
	const [memberList, bans, invites, botList, name, media, reportPage] = await Promise.all([
		members.listMembers(db, room.id),
		admin ? members.listBans(db, room.id) : [],
		admin ? listInvites(db, room.id) : [],
		admin ? bots.listBots(db, room.id) : [],
		peerNameOf(db, room, user.id),
		listRoomMedia(db, access, { before: mediaBefore }),
		handlesReports
			? reports.listRoomReports(db, rt, room.id, {
					status: reportStatus,
					cursor: reportsBefore,
					limit: ROOM_REPORTS_PAGE
				})
			: null
	]);
	const { role, notify, pinned, archived } = membership!;
	const now = Date.now();
	const timeOuts = admin ? await listTimeOuts(db, room.id, now) : {};
	return {
		room: {
			id: room.id,
			kind: room.kind,
			name,
			description: room.description,
			slowModeSeconds: room.slowModeSeconds,
			retentionSeconds: room.retentionSeconds,
			retentionChoices: retentionChoices(room.kind),
			encrypted: room.encryption === 'mls'
		},
		timeOuts,
		me: { id: user.id, role, notify, pinned, archived },
		members: memberList,
		bans,
		invites,
		lifetimes: Object.keys(INVITE_LIFETIMES),
		// Never a bot's webhook address or token secrets: those are shown once, in an action's answer.
		bots: botList.map((bot) => ({
			...bot,
			tokens: bot.tokens.map((token) => ({
				...token,
				expired: token.expiresAt !== null && token.expiresAt <= now
			}))
		})),
		botLimits: {
			maxName: bots.MAX_BOT_NAME_LENGTH,
			maxBots: bots.MAX_BOTS_PER_ROOM,
			tokenScopes: TOKEN_SCOPES,
			tokenLifetimes: Object.keys(TOKEN_LIFETIMES)
		},
		media: media ?? { items: [], older: null },
		mediaPaged: mediaBefore !== null,
		reports: reportPage
			? { ...reportPage, status: reportStatus, paged: reportsBefore !== null }
			: null
	};
};

type Step = (s: Signed, roomId: string, form: FormData) => Promise<Done>;

/** Back to the details page, on the section whose form was sent (`?/add` → Members). */
const backToSection = (event: RequestEvent) => detailsHref(event.params.id, sectionIn(event.url));

/** Runs one change to the room for the signed-in user; refusals come back as `{code, message}`. */
function change(step: Step, after: (event: RequestEvent) => string = backToSection) {
	return async (event: RequestEvent) => {
		const signed = requireSignedIn(event);
		const result = await step(signed, event.params.id, await event.request.formData());
		if (!result.ok) return refuse(result);
		redirect(303, after(event));
	};
}

/**
 * What a refused bot action answers: which form it was and for which bot, so the Bots section
 * shows the refusal beside that form (and the name typed into "Add a bot", or the address typed
 * for an outgoing webhook, stays).
 */
type BotRefusal = {
	action: string;
	botId: string;
	message: string;
	name?: string;
	url?: string;
	events?: string;
};

function refuseBot(status: number, refusal: BotRefusal) {
	return fail(status, { bot: refusal });
}

type BotStep = (s: Signed, roomId: string, botId: string, form: FormData) => Promise<Done>;

/** A change to one of the room's bots, back to the Bots section; refusals stay beside its card. */
function botChange(action: string, step: BotStep) {
	return async (event: RequestEvent) => {
		const signed = requireSignedIn(event);
		const form = await event.request.formData();
		const botId = field(form, 'botId');
		const result = await step(signed, event.params.id, botId, form);
		if (!result.ok) return refuseBot(result.status, { action, botId, message: result.message });
		redirect(303, backToSection(event));
	};
}

export const actions: Actions = {
	settings: change(async (s, id, form) => {
		const parsed = v.safeParse(Settings, Object.fromEntries(form));
		if (!parsed.success) return deny(400, 'bad_input', 'Choose all, mentions or mute.');
		return updateMemberSettings(s.db, s.rt, s.user, id, parsed.output);
	}),
	leave: change(
		(s, id) => members.leaveRoom(s.db, s.rt, s.user, id),
		() => '/'
	),
	delete: change(
		(s, id) => deleteRoom(s.db, s.rt, s.user, id),
		() => '/'
	),
	// Either person of a direct conversation; a group's encryption is chosen when it is made.
	encrypt: change((s, id) => encryptDirectRoom(s.db, s.rt, s.user, id)),
	add: change((s, id, form) =>
		members.addMember(s.db, s.rt, s.user, id, field(form, 'username'), e2eeMaxMembers(s.env))
	),
	retention: change((s, id, form) =>
		setRetention(s.db, s.rt, s.user, id, parseRetention(field(form, 'value')))
	),
	slowMode: change((s, id, form) =>
		setSlowMode(s.db, s.rt, s.user, id, { seconds: field(form, 'value') })
	),
	timeOut: change((s, id, form) =>
		timeOutMember(s.db, s.rt, s.user, id, field(form, 'userId'), {
			length: field(form, 'length'),
			reason: field(form, 'reason')
		})
	),
	endTimeOut: change((s, id, form) => endTimeOut(s.db, s.rt, s.user, id, field(form, 'userId'))),
	remove: change((s, id, form) =>
		members.removeMember(s.db, s.rt, s.user, id, field(form, 'userId'))
	),
	ban: change((s, id, form) => members.banMember(s.db, s.rt, s.user, id, field(form, 'userId'))),
	unban: change((s, id, form) => members.unbanMember(s.db, s.user, id, field(form, 'userId'))),
	promote: change((s, id, form) =>
		members.setMemberRole(s.db, s.rt, s.user, id, field(form, 'userId'), 'admin')
	),
	demote: change((s, id, form) =>
		members.setMemberRole(s.db, s.rt, s.user, id, field(form, 'userId'), 'member')
	),
	transfer: change((s, id, form) =>
		members.transferOwnership(s.db, s.rt, s.user, id, field(form, 'userId'))
	),
	revoke: change((s, id, form) => revokeInvite(s.db, s.user, id, field(form, 'inviteId'))),
	// A room's admins dismiss a report here, or delete the reported message (which resolves it).
	resolveReport: change((s, _id, form) =>
		reports.resolveReport(
			s.db,
			s.user,
			field(form, 'reportId'),
			{ resolution: 'dismissed', note: field(form, 'note') },
			'room_admin'
		)
	),
	deleteReportedMessage: change((s, _id, form) =>
		reports.deleteReportedMessage(s.db, s.env, s.user, field(form, 'reportId'), field(form, 'note'))
	),
	update: async (event) => {
		const { user, db, rt } = requireSignedIn(event);
		const form = parseForm(Details, await event.request.formData());
		if (!form.ok) return rejectForm(form.values, form.errors);
		const result = await updateRoomDetails(db, rt, user, event.params.id, form.data);
		if (!result.ok) return refuse(result);
		redirect(303, backToSection(event));
	},
	invite: async (event) => {
		const { user, db } = requireSignedIn(event);
		const form = parseForm(InviteOptions, await event.request.formData());
		if (!form.ok) return rejectForm(form.values, form.errors);
		const created = await createInvite(db, user, event.params.id, form.data);
		if (!created.ok) return refuse(created);
		// The code is shown this once: only its hash is kept.
		return { inviteUrl: `${event.url.origin}/invite/${created.code}` };
	},
	addBot: async (event) => {
		const { user, db, rt } = requireSignedIn(event);
		const name = field(await event.request.formData(), 'name');
		const created = await bots.createBot(db, rt, user, event.params.id, name);
		if (!created.ok) {
			return refuseBot(created.status, {
				action: 'addBot',
				botId: '',
				message: created.message,
				name
			});
		}
		redirect(303, backToSection(event));
	},
	removeBot: botChange('removeBot', (s, id, botId) =>
		bots.removeBot(s.db, s.rt, s.user, id, botId)
	),
	deleteBotWebhook: botChange('deleteBotWebhook', (s, id, botId) =>
		bots.revokeIncomingWebhook(s.db, s.user, id, botId)
	),
	revokeBotToken: botChange('revokeBotToken', (s, id, botId, form) =>
		bots.revokeBotToken(s.db, s.rt, s.user, id, botId, field(form, 'tokenId'))
	),
	deleteBotOutgoing: botChange('deleteBotOutgoing', (s, id, botId) =>
		deleteOutgoingWebhook(s.db, s.rt, s.user, id, botId)
	),
	botOutgoing: async (event) => {
		const { user, db, rt } = requireSignedIn(event);
		const form = await event.request.formData();
		const botId = field(form, 'botId');
		const input = { url: field(form, 'url'), events: field(form, 'events') };
		const saved = await saveOutgoingWebhook(db, rt, user, event.params.id, botId, input, {
			production: isProduction(platformEnv(event.platform))
		});
		if (!saved.ok) {
			return refuseBot(saved.status, {
				action: 'botOutgoing',
				botId,
				message: saved.message,
				url: input.url,
				events: input.events
			});
		}
		// A new webhook's signing secret is shown this once; a change keeps the secret it had.
		if (saved.secret)
			return { botSecret: { botId, kind: 'signing' as const, secret: saved.secret } };
		redirect(303, backToSection(event));
	},
	botWebhook: async (event) => {
		const { user, db } = requireSignedIn(event);
		const botId = field(await event.request.formData(), 'botId');
		const created = await bots.createIncomingWebhook(db, user, event.params.id, botId);
		if (!created.ok) {
			return refuseBot(created.status, { action: 'botWebhook', botId, message: created.message });
		}
		// The address is shown this once: only its secret's hash is kept.
		return {
			botSecret: { botId, kind: 'webhook' as const, secret: event.url.origin + created.path }
		};
	},
	botToken: async (event) => {
		const { user, db } = requireSignedIn(event);
		const form = await event.request.formData();
		const botId = field(form, 'botId');
		const options = v.safeParse(BotTokenOptions, {
			scope: field(form, 'scope'),
			lifetime: field(form, 'lifetime')
		});
		if (!options.success) {
			const message = options.issues[0].message;
			return refuseBot(400, { action: 'botToken', botId, message });
		}
		const created = await bots.createBotToken(db, user, event.params.id, botId, options.output);
		if (!created.ok) {
			return refuseBot(created.status, { action: 'botToken', botId, message: created.message });
		}
		// The secret goes out in this answer only: no load ever reads it again.
		return { botSecret: { botId, kind: 'token' as const, secret: created.token } };
	}
};
