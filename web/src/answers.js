// Answer drafts on the host's big screen (console/_answer_drafts.html). The host types or
// picks a viewer's question; the server drafts answers from the product's own data; the
// host edits the reply and sends it with one click, as their own comment in the room.
// Nothing is ever sent without that click. Drafts and questions are text: textContent only.

const MAX_REPLY = 200; // a room comment's limit (docs/protocol.md)

function csrfToken() {
  const raw = document.body.getAttribute("hx-headers");
  return raw ? JSON.parse(raw)["X-CSRF-Token"] || "" : "";
}

export function followAnswerDrafts() {
  const panel = document.getElementById("answer-drafts");
  const wordsEl = document.getElementById("answer-text");
  if (!panel || !wordsEl) return;
  const words = JSON.parse(wordsEl.textContent);
  const screen = document.getElementById("screen");
  const form = panel.querySelector("[data-answer-form]");
  const question = form.querySelector("#answer-question");
  const product = form.querySelector("#answer-product");
  const list = panel.querySelector("[data-answer-list]");
  const reply = panel.querySelector("#answer-reply");
  const send = panel.querySelector("[data-answer-send]");
  const status = panel.querySelector("[data-answer-status]");
  const live = panel.dataset.live === "true";
  const url = `/api/v1/sessions/${encodeURIComponent(panel.dataset.session)}/assistant/drafts`;
  let askedProduct = null; // a product named by a picked question that is not in the list
  let asking = 0; // only the latest question's drafts are shown
  let refs = 0;

  function say(text) { status.textContent = text || ""; }
  function canSend() {
    const text = reply.value.trim();
    send.disabled = !live || text.length === 0 || text.length > MAX_REPLY;
    if (text.length > MAX_REPLY) say(words.too_long);
  }

  function showDrafts(body) {
    list.replaceChildren();
    for (const d of body.drafts) {
      const li = document.createElement("li");
      li.dataset.slot = d.slot;
      const text = document.createElement("p");
      text.className = "answer-text";
      text.textContent = d.text;
      const source = document.createElement("span");
      source.className = "muted answer-source";
      source.textContent = `${words.slots[d.slot] || d.slot} · ${d.source} · ${Math.round(d.confidence * 100)}%`;
      const use = document.createElement("button");
      use.type = "button";
      use.textContent = words.use;
      use.addEventListener("click", () => { reply.value = d.text; canSend(); reply.focus(); });
      li.append(text, source, use);
      list.append(li);
    }
    // The reply starts as every draft together; the host edits or picks one.
    const joiner = panel.dataset.lang === "en" ? " " : "";
    reply.value = body.drafts.map((d) => d.text).join(joiner);
    say("");
    canSend();
  }

  async function ask() {
    const text = question.value.trim();
    if (!text) return;
    const mine = ++asking;
    say(words.asking);
    const body = { question: text, lang: panel.dataset.lang };
    const chosen = askedProduct || product.value;
    if (chosen) body.product_id = chosen;
    try {
      const r = await fetch(url, {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": csrfToken() },
        body: JSON.stringify(body),
      });
      if (!r.ok) throw new Error(`drafts: ${r.status}`);
      const drafts = await r.json();
      if (mine === asking) showDrafts(drafts);
    } catch (e) {
      if (mine === asking) say(words.failed);
      console.warn(e);
    }
  }

  form.addEventListener("submit", (event) => { event.preventDefault(); ask(); });
  product.addEventListener("change", () => { askedProduct = null; });
  reply.addEventListener("input", () => { say(""); canSend(); });

  // A question picked in the screen's question queue: fill the box and draft at once.
  window.addEventListener("daihuo:ask", (event) => {
    const detail = event.detail || {};
    if (typeof detail.text !== "string" || !detail.text.trim()) return;
    question.value = detail.text.slice(0, 500);
    askedProduct = null;
    product.value = "";
    if (detail.product) {
      const match = [...product.options].find(
        (o) => o.value === detail.product || o.dataset.showcaseItem === detail.product);
      if (match) product.value = match.value;
      else askedProduct = String(detail.product);
    }
    ask();
  });

  // Sending: the reply as the host's comment over the screen's room connection; the
  // room's ack (or error) for our ref says how it went.
  const pending = new Map(); // ref -> timer
  screen?.addEventListener("room:frame", (event) => {
    const msg = event.detail;
    if ((msg.type !== "ack" && msg.type !== "error") || !pending.has(msg.ref)) return;
    clearTimeout(pending.get(msg.ref));
    pending.delete(msg.ref);
    say(msg.type === "ack" ? words.sent : `${words.failed}: ${msg.code}`);
    canSend();
  });
  send.addEventListener("click", () => {
    const text = reply.value.trim();
    if (!live || !screen || !screen.room) { say(words.not_live); return; }
    if (!text || text.length > MAX_REPLY) { canSend(); return; }
    const ref = `answer-${++refs}`;
    send.disabled = true;
    say(words.sending);
    pending.set(ref, setTimeout(() => { pending.delete(ref); say(words.no_reply); canSend(); }, 8000));
    screen.room.send({ type: "comment", text, ref });
  });
  if (!live) say(words.not_live);
}
