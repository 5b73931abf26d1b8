// How both workers find a Durable Object: a room's object is named by the room's D1 id, a person's
// hub by their user id. One place says so, so that the door, the app's effects, the room's unread
// signals and the hubs all reach the same object.

export function roomStub<T extends Rpc.DurableObjectBranded | undefined>(
	rooms: DurableObjectNamespace<T>,
	roomId: string
): DurableObjectStub<T> {
	return rooms.get(rooms.idFromName(roomId));
}

export function hubStub<T extends Rpc.DurableObjectBranded | undefined>(
	hubs: DurableObjectNamespace<T>,
	userId: string
): DurableObjectStub<T> {
	return hubs.get(hubs.idFromName(userId));
}
