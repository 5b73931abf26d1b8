// How an encrypted room's browser side talks to the app: the room's devices, KeyPackages to
// claim, commits, welcomes and the knock (`src/routes/api/rooms/[id]/e2ee`). `EncryptedRoom` takes
// another `Api` in tests.

export type RoomDevices = {
	devices: { userId: string; deviceId: string; name: string; identityKey: string }[];
	removed: { userId: string; deviceId: string }[];
};

export type Api = {
	roomDevices(roomId: string): Promise<RoomDevices>;
	claim(
		roomId: string,
		deviceIds: string[]
	): Promise<{ deviceId: string; keyPackage: string | null }[]>;
	commit(
		roomId: string,
		handshake: {
			clientId: string;
			epoch: number;
			commit: string;
			welcome?: string;
			adds?: string[];
		}
	): Promise<{ ok: true; seq: number } | { ok: false; code: string; message: string }>;
	welcome(
		roomId: string,
		deviceId: string
	): Promise<{ welcome: { seq: number; welcome: string } | null; epoch: number }>;
	/** Asks the room's open devices to let this one in now. */
	knock(roomId: string): Promise<void>;
};

/** The app's endpoints for an encrypted room (`src/routes/api/rooms/[id]/e2ee`). */
export const appApi: Api = {
	async roomDevices(roomId) {
		return answer<RoomDevices>(await fetch(`/api/rooms/${roomId}/e2ee/devices`));
	},
	async claim(roomId, deviceIds) {
		const claimed = await answer<{
			keyPackages: { deviceId: string; keyPackage: string | null }[];
		}>(await post(`/api/rooms/${roomId}/e2ee/key-packages`, { devices: deviceIds }));
		return claimed.keyPackages;
	},
	async commit(roomId, handshake) {
		const response = await post(`/api/rooms/${roomId}/e2ee/commits`, handshake);
		const body = (await response.json().catch(() => null)) as {
			seq?: number;
			error?: { code: string; message: string };
		} | null;
		if (response.ok && typeof body?.seq === 'number') return { ok: true, seq: body.seq };
		return {
			ok: false,
			code: body?.error?.code ?? 'internal',
			message: body?.error?.message ?? 'The change of devices could not be sent.'
		};
	},
	async welcome(roomId, deviceId) {
		return answer(
			await fetch(`/api/rooms/${roomId}/e2ee/welcome?device=${encodeURIComponent(deviceId)}`)
		);
	},
	async knock(roomId) {
		// Best effort: the room's open devices look again on their own every few seconds.
		await post(`/api/rooms/${roomId}/e2ee/knock`, {}).catch(() => null);
	}
};

function post(url: string, body: unknown): Promise<Response> {
	return fetch(url, {
		method: 'POST',
		headers: { 'content-type': 'application/json' },
		body: JSON.stringify(body)
	});
}

async function answer<T>(response: Response): Promise<T> {
	const body = (await response.json().catch(() => null)) as
		(T & { error?: { message?: string } }) | null;
	if (!response.ok || body === null) {
		throw new Error(body?.error?.message ?? `The server answered ${response.status}.`);
	}
	return body;
}
