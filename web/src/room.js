// One viewer's connection to a live room (docs/protocol.md): the hello, resuming from the
// last seq after a reconnect (with backoff), the end (close 4410). Frames go to the
// caller's onFrame as parsed JSON; the caller keeps its own view of the room.
export function openRoom({ session, hello, onFrame, onStatus }) {
  const room = { seq: null, ws: null, retry: 0, ended: false };
  const status = onStatus || (() => {});

  function connect() {
    if (room.ended) return;
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const ws = new WebSocket(`${scheme}//${location.host}/ws/rooms/${encodeURIComponent(session)}`);
    room.ws = ws;
    ws.onopen = async () => {
      try {
        const h = hello ? await hello() : { type: "hello", v: 1, source: "other" };
        if (room.seq !== null) h.resume_from = room.seq;
        ws.send(JSON.stringify(h));
        room.retry = 0;
        status("open");
      } catch (e) {
        ws.close();
      }
    };
    ws.onmessage = (ev) => {
      const msg = JSON.parse(ev.data);
      if (typeof msg.seq === "number" && (msg.type === "snapshot" || msg.type === "resumed")) {
        room.seq = msg.seq;
      } else if (msg.type === "frame") {
        for (const m of msg.msgs) if (typeof m.seq === "number") room.seq = m.seq;
      }
      onFrame(msg);
    };
    ws.onclose = (ev) => {
      room.ws = null;
      if (ev.code === 4410) { room.ended = true; status("ended"); return; }
      if (room.ended) return;
      status("reconnecting");
      setTimeout(connect, Math.min(10000, 500 * 2 ** room.retry++));
    };
  }

  room.send = (obj) => {
    if (room.ws && room.ws.readyState === WebSocket.OPEN) room.ws.send(JSON.stringify(obj));
  };
  room.close = () => { room.ended = true; if (room.ws) room.ws.close(); };
  connect();
  setInterval(() => room.send({ type: "ping", t: Date.now() % 1e9 }), 25000);
  return room;
}
