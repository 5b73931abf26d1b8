// Heartbeat frames, answered by the runtime without waking a hibernated room. A module of its own,
// free of imports, so that scripts running on plain Node can use it too.
export const PING = '{"type":"ping"}';
export const PONG = '{"type":"pong"}';
