// The consumer's live room (pages/live_room.py): the room protocol v1 over a WebSocket
// (docs/protocol.md) and the buying API. Everything user-written goes into the page as
// text (textContent), never as HTML.
import Hls from "hls.js";
import mpegts from "mpegts.js";
import { openRoom } from "./room.js";

const boot = JSON.parse(document.getElementById("boot").textContent);
const T = JSON.parse(document.getElementById("i18n").textContent);
const root = document.getElementById("room");
const csrf = root.dataset.csrf || "";
const $ = (id) => document.getElementById(id);
const MAX_COMMENTS = 60;

const state = {
  seq: null, room: null, taps: 0, sales: new Map(), ended: false,
  coupons: new Map(), draws: new Map(), refs: 0, claims: new Map(), // ref -> coupon
};
for (const sale of boot.sales) state.sales.set(sale.id, sale);

function fmt(text, values) {
  return text.replace(/\{(\w+)\}/g, (_, k) => String(values[k] ?? ""));
}

function notice(text) {
  const box = $("notice");
  box.textContent = text;
  box.hidden = !text;
  clearTimeout(notice.timer);
  if (text) notice.timer = setTimeout(() => { box.hidden = true; }, 4000);
}

function money(fen) {
  return "¥" + (fen / 100).toFixed(2);
}

// --- room messages ------------------------------------------------------------------

function addComment(m) {
  const list = $("comments");
  const li = document.createElement("li");
  li.dataset.id = m.id;
  const who = document.createElement("b");
  who.textContent = (m.user || "").slice(-4) + "：";
  const text = document.createElement("span");
  text.textContent = m.text;
  li.append(who, text);
  list.append(li);
  while (list.children.length > MAX_COMMENTS) list.firstChild.remove();
  list.scrollTop = list.scrollHeight;
}

function showPinned(item) {
  const box = $("pinned");
  box.replaceChildren();
  if (!item) {
    const p = document.createElement("p");
    p.className = "muted";
    p.textContent = T.lr_no_pin;
    box.append(p);
    return;
  }
  const product = boot.products.find((p) => p.item_id === item.item_id);
  const label = document.createElement("span");
  label.className = "tag";
  label.textContent = T.lr_explaining;
  const name = document.createElement("span");
  name.className = "name";
  name.textContent = item.title;
  const price = document.createElement("span");
  price.className = "price";
  price.textContent = money(item.price);
  box.append(label, name, price);
  if (product && product.image) {
    const img = document.createElement("img");
    img.src = product.image;
    img.alt = "";
    box.prepend(img);
  }
  const buy = document.createElement("button");
  buy.type = "button";
  buy.className = "buy";
  buy.dataset.item = item.item_id;
  buy.textContent = boot.signedIn ? T.lr_buy : T.lr_sign_in_to_buy;
  buy.disabled = !product || product.skus.length === 0;
  box.append(buy);
}

function renderSales() {
  const box = $("flash");
  box.replaceChildren();
  const now = Date.now();
  for (const sale of state.sales.values()) {
    const ends = Date.parse(sale.ends_at);
    if (sale.ended_at || ends <= now || Date.parse(sale.starts_at) > now) continue;
    const card = document.createElement("div");
    card.className = "sale";
    card.dataset.sale = sale.id;
    const head = document.createElement("b");
    head.textContent = T.lr_flash + " · " + sale.title;
    const price = document.createElement("span");
    price.className = "price";
    price.textContent = money(sale.price);
    const left = document.createElement("span");
    left.textContent = fmt(T.lr_flash_left, { n: sale.remaining });
    const clock = document.createElement("span");
    clock.className = "clock";
    clock.textContent = fmt(T.lr_flash_ends, { s: Math.ceil((ends - now) / 1000) + "s" });
    const buy = document.createElement("button");
    buy.type = "button";
    buy.className = "grab";
    buy.dataset.sale = sale.id;
    buy.disabled = sale.remaining <= 0;
    buy.textContent = sale.remaining <= 0 ? T.lr_sold_out
      : boot.signedIn ? T.lr_flash_buy : T.lr_sign_in_to_buy;
    card.append(head, price, left, clock, buy);
    box.append(card);
  }
}

// Coupons (优惠券) and lucky draws (福袋): what the host dropped, from the snapshot and
// the room's messages. Claims go over the room's connection; a draw is entered by the
// comment with its keyword (or a follow), which the server counts for signed-in viewers.
function perkCard(kind, id) {
  const card = document.createElement("div");
  card.className = "perk perk-" + kind;
  card.dataset[kind] = id;
  return card;
}

function span(text, cls) {
  const el = document.createElement("span");
  if (cls) el.className = cls;
  el.textContent = text;
  return el;
}

function renderPerks() {
  const box = $("perks");
  box.replaceChildren();
  const now = Date.now();
  for (const c of state.coupons.values()) {
    const open = Date.parse(c.claim_until) > now;
    if (!open && !c.claimed) continue;
    const card = perkCard("coupon", c.id);
    const what = c.threshold > 0
      ? fmt(T.lr_coupon_off, { threshold: money(c.threshold), amount: money(c.amount) })
      : fmt(T.lr_coupon_any, { amount: money(c.amount) });
    card.append(span(T.lr_coupon, "tag"), span(what, "what"));
    if (open && !c.claimed && !c.soldOut) {
      card.append(span(fmt(T.lr_claim_until, {
        s: Math.ceil((Date.parse(c.claim_until) - now) / 1000) + "s",
      }), "clock"));
    }
    const btn = document.createElement("button");
    btn.type = "button";
    btn.className = "claim";
    btn.dataset.coupon = c.id;
    btn.disabled = Boolean(c.claimed || c.soldOut || !open);
    btn.textContent = c.claimed ? T.lr_claimed : c.soldOut ? T.lr_sold_out
      : !open ? T.lr_coupon_closed : boot.signedIn ? T.lr_claim : T.lr_sign_in_to_claim;
    card.append(btn);
    box.append(card);
  }
  for (const d of state.draws.values()) {
    const card = perkCard("draw", d.id);
    card.append(span(T.lr_draw, "tag"), span(d.prize, "what"));
    if (d.result) {
      const r = d.result;
      card.append(span(fmt(T.lr_draw_result, {
        n: r.winners.length, m: r.entrant_count,
      })));
      if (boot.user && r.winners.includes(boot.user)) card.append(span(T.lr_draw_won, "won"));
      const proof = document.createElement("a");
      proof.href = `/api/v1/draws/${encodeURIComponent(d.id)}`;
      proof.textContent = T.lr_draw_proof;
      card.append(proof);
    } else {
      const how = d.condition === "follow" ? T.lr_draw_follow
        : fmt(T.lr_draw_comment, { keyword: d.keyword });
      card.append(span(how));
      const ends = Date.parse(d.ends_at);
      if (ends > now) card.append(span(Math.ceil((ends - now) / 1000) + "s", "clock"));
      const btn = document.createElement("button");
      btn.type = "button";
      btn.className = "join";
      btn.dataset.draw = d.id;
      btn.disabled = Boolean(d.joined) || ends <= now;
      btn.textContent = d.joined ? T.lr_draw_joined
        : boot.signedIn ? T.lr_draw_join : T.lr_sign_in_to_join;
      card.append(btn);
    }
    box.append(card);
  }
}

function claim(couponId) {
  if (!boot.signedIn) { location.assign(boot.login); return; }
  const ref = "c" + ++state.refs;
  state.claims.set(ref, couponId);
  send({ type: "claim_coupon", coupon: couponId, ref });
}

function join(drawId) {
  if (!boot.signedIn) { location.assign(boot.login); return; }
  const d = state.draws.get(drawId);
  if (!d) return;
  if (d.condition === "follow") send({ type: "follow" });
  else send({ type: "comment", text: d.keyword });
  d.joined = true;
  renderPerks();
}

const COUPON_REFUSED = {
  "coupon-already-claimed": "claimed", "coupon-sold-out": "soldOut", "coupon-closed": "closed",
};

function onMessage(m) {
  if (typeof m.seq === "number") state.seq = m.seq;
  switch (m.type) {
    case "comment": addComment(m); break;
    case "comment_deleted": {
      const li = $("comments").querySelector(`li[data-id="${CSS.escape(m.id)}"]`);
      if (li) li.remove();
      break;
    }
    case "likes": $("likes").textContent = m.total; break;
    case "online": $("online").textContent = m.count; break;
    case "pin": showPinned(m.item); break;
    case "flash_sale": state.sales.set(m.sale.id, m.sale); renderSales(); break;
    case "coupon": state.coupons.set(m.coupon.id, { ...m.coupon }); renderPerks(); break;
    case "coupon_sold_out": {
      const c = state.coupons.get(m.id);
      if (c) { c.soldOut = true; renderPerks(); }
      break;
    }
    case "draw": state.draws.set(m.draw.id, { ...m.draw }); renderPerks(); break;
    case "draw_result": {
      const d = state.draws.get(m.draw.id) || { id: m.draw.id, prize: "" };
      d.result = m.draw;
      state.draws.set(d.id, d);
      renderPerks();
      break;
    }
    case "ended":
      state.ended = true;
      if (state.room) state.room.close(); // no reconnect, whatever the close code
      $("text").disabled = true;
      notice(T.lr_ended);
      break;
    default: break; // later versions add more: ignore what we do not know
  }
}

function onFrame(msg) {
  if (msg.type === "snapshot") {
    state.seq = msg.seq;
    $("comments").replaceChildren();
    for (const c of msg.comments || []) addComment(c);
    $("likes").textContent = msg.likes;
    $("online").textContent = msg.online;
    showPinned(msg.pinned);
    for (const sale of msg.flash_sales || []) {
      if (!state.sales.has(sale.id)) state.sales.set(sale.id, sale); // the page's is fresher
    }
    renderSales();
    for (const c of msg.coupons || []) {
      state.coupons.set(c.id, { ...c, claimed: state.coupons.get(c.id)?.claimed });
    }
    for (const d of msg.draws || []) {
      state.draws.set(d.id, { ...d, joined: state.draws.get(d.id)?.joined });
    }
    renderPerks();
  } else if (msg.type === "frame") {
    for (const m of msg.msgs) onMessage(m);
  } else if (msg.type === "resumed") {
    state.seq = msg.seq;
  } else if (msg.type === "coupon_claimed") {
    // the claim (its own id) of coupon `coupon_id`
    const id = msg.coupon.coupon_id;
    const c = state.coupons.get(id) || { ...msg.coupon, id, claim_until: msg.coupon.expires_at };
    c.claimed = true;
    state.coupons.set(id, c);
    notice(T.lr_claimed);
    renderPerks();
  } else if (msg.type === "error") {
    const why = {
      "rate-limited": T.lr_rate_limited, muted: T.lr_muted, "slow-mode": T.lr_slow_mode,
      "login-required": T.lr_sign_in_to_claim, "coupon-already-claimed": T.lr_claimed,
      "coupon-sold-out": T.lr_sold_out, "coupon-closed": T.lr_coupon_closed,
    };
    notice(why[msg.code] || msg.detail || msg.code);
    const mark = COUPON_REFUSED[msg.code];
    const coupon = state.coupons.get(state.claims.get(msg.ref));
    if (mark && coupon) {
      coupon[mark] = true;
      renderPerks();
    }
  }
}

// --- the connection -------------------------------------------------------------------

async function hello() {
  const h = { type: "hello", v: 1, source: "other" }; // room.js adds resume_from
  if (!boot.signedIn) {
    if (!state.visitor) {
      const r = await fetch(`/api/v1/live-sessions/${boot.session}/visitor-token`, {
        method: "POST", credentials: "omit",
      });
      if (!r.ok) throw new Error("visitor token " + r.status);
      state.visitor = (await r.json()).token;
    }
    h.visitor = state.visitor;
  }
  return h; // signed in: the browser session cookie identifies the viewer
}

function connect() {
  if (boot.state !== "live" || state.ended) return;
  // The connection (resume, reconnect with backoff, pings) is web/src/room.js, shared
  // with the console's big screen.
  state.room = openRoom({
    session: boot.session,
    hello,
    onFrame,
    onStatus: (what) => {
      if (what === "open") notice("");
      else if (what === "ended") { state.ended = true; notice(T.lr_ended); }
      else if (!state.ended) notice(T.lr_reconnecting);
    },
  });
}

function send(obj) {
  if (state.room) state.room.send(obj);
}

// --- actions --------------------------------------------------------------------------

async function api(path, body) {
  const r = await fetch(path, {
    method: "POST",
    credentials: "same-origin",
    headers: {
      "Content-Type": "application/json",
      "X-CSRF-Token": csrf,
      "Idempotency-Key": crypto.randomUUID(),
    },
    body: JSON.stringify(body || {}),
  });
  const data = await r.json().catch(() => ({}));
  if (!r.ok) throw new Error(data.detail || data.title || String(r.status));
  return data;
}

async function checkout(order) {
  const payment = await api(`/api/v1/orders/${order.id}/pay`);
  location.assign(payment.pay_url);
}

// --- the checkout dialog: option, quantity, delivery address ---------------------------
// The address is kept on this device only (localStorage) and only when the buyer ticks
// "remember"; the server hashes the place into the order's events, never the person.

const ADDRESS_KEY = "daihuo.address";
const ADDRESS_FIELDS = ["recipient", "phone", "region", "detail"];
const pending = { kind: null, id: null, price: 0 };

function specText(spec) {
  const parts = Object.entries(spec || {}).map(([k, v]) => `${k} ${v}`);
  return parts.length ? parts.join(" / ") : "—";
}

function savedAddress() {
  try { return JSON.parse(localStorage.getItem(ADDRESS_KEY) || "null"); } catch { return null; }
}

function coError(text) {
  const box = $("co-error");
  box.textContent = text || "";
  box.hidden = !text;
}

// The buyer's unspent, unexpired coupons of this shop (GET /api/v1/me/coupons). Whether
// the shop's commission covers one is the server's to say: it refuses with the reason.
let myCoupons = [];

async function loadCoupons() {
  myCoupons = [];
  try {
    const r = await fetch("/api/v1/me/coupons?limit=100", { credentials: "same-origin" });
    if (r.ok) {
      const now = Date.now();
      myCoupons = ((await r.json()).items || []).filter((c) => c.merchant_id === boot.merchant
        && !c.order_id && Date.parse(c.expires_at) > now);
    }
  } catch { /* no coupons offered: the order goes at full price */ }
  const select = $("co-coupon");
  const none = document.createElement("option");
  none.value = ""; none.textContent = T.lr_no_coupon;
  select.replaceChildren(none, ...myCoupons.map((c) => {
    const opt = document.createElement("option");
    opt.value = c.coupon_id;
    opt.textContent = c.threshold > 0
      ? fmt(T.lr_coupon_off, { threshold: money(c.threshold), amount: money(c.amount) })
      : fmt(T.lr_coupon_any, { amount: money(c.amount) });
    return opt;
  }));
  $("co-coupon-row").hidden = pending.kind !== "item" || !myCoupons.length;
  coTotal();
}

function coTotal() {
  const qty = Math.max(1, parseInt($("co-qty").value, 10) || 1);
  const gross = pending.price * qty;
  const chosen = pending.kind === "item"
    ? myCoupons.find((c) => c.coupon_id === $("co-coupon").value) : undefined;
  let text = fmt(T.lr_total, { total: money(gross) });
  if (chosen && gross >= chosen.threshold && chosen.amount < gross) {
    text = fmt(T.lr_total_off, { total: money(gross - chosen.amount), off: money(chosen.amount) });
  } else if (chosen) {
    text += " · " + fmt(T.lr_coupon_short, { threshold: money(Math.max(chosen.threshold, chosen.amount + 1)) });
  }
  $("co-price").textContent = text;
}

function openCheckout(kind, id) {
  if (!boot.signedIn) { location.assign(boot.login); return; }
  let title; let skus = [];
  if (kind === "item") {
    const product = boot.products.find((p) => p.item_id === id);
    if (!product || !product.skus.length) return;
    title = product.title; skus = product.skus; pending.price = product.price;
  } else {
    const sale = state.sales.get(id);
    if (!sale) return;
    title = sale.title; pending.price = sale.price;
  }
  pending.kind = kind; pending.id = id;
  $("co-title").textContent = kind === "sale" ? `${T.lr_flash} · ${title}` : title;
  const select = $("co-sku");
  select.replaceChildren(...skus.map((sku) => {
    const opt = document.createElement("option");
    opt.value = sku.id;
    opt.textContent = specText(sku.spec);
    return opt;
  }));
  // A flash sale sells one set option, one unit per grab.
  $("co-sku-row").hidden = kind !== "item" || skus.length < 2;
  $("co-qty-row").hidden = kind !== "item";
  $("co-qty").value = "1";
  const saved = savedAddress();
  for (const f of ADDRESS_FIELDS) {
    const input = $("co-" + f);
    if (saved && typeof saved[f] === "string" && !input.value) input.value = saved[f];
  }
  coError("");
  $("co-coupon-row").hidden = true;
  $("co-coupon").replaceChildren();
  coTotal();
  $("co-submit").disabled = false;
  $("checkout").showModal();
  if (kind === "item") loadCoupons();
}

async function placeOrder() {
  const form = $("co-form");
  if (!form.checkValidity()) { form.reportValidity(); coError(T.lr_fix_fields); return; }
  const address = {};
  for (const f of ADDRESS_FIELDS) address[f] = $("co-" + f).value.trim();
  if (ADDRESS_FIELDS.some((f) => !address[f])) { coError(T.lr_fix_fields); return; }
  if ($("co-remember").checked) localStorage.setItem(ADDRESS_KEY, JSON.stringify(address));
  else localStorage.removeItem(ADDRESS_KEY);
  $("co-submit").disabled = true;
  coError("");
  try {
    const order = pending.kind === "item"
      ? await api("/api/v1/orders", {
          item_id: pending.id, sku_id: $("co-sku").value,
          quantity: Math.max(1, parseInt($("co-qty").value, 10) || 1),
          session: boot.session, address,
          ...($("co-coupon").value ? { coupon_id: $("co-coupon").value } : {}),
        })
      : await api(`/api/v1/flash-sales/${pending.id}/buy`, { quantity: 1, address });
    notice(T.lr_paying);
    await checkout(order);
  } catch (e) {
    // The order was refused (or not paid for yet): say why and let the buyer fix it.
    coError(fmt(T.lr_refused, { why: e.message }));
    $("co-submit").disabled = false;
  }
}

$("co-form").addEventListener("submit", (ev) => { ev.preventDefault(); placeOrder(); });
$("co-qty").addEventListener("input", coTotal);
$("co-coupon").addEventListener("change", coTotal);
$("co-cancel").addEventListener("click", () => $("checkout").close());

document.addEventListener("click", (ev) => {
  const target = ev.target.closest("button");
  if (!target) return;
  if (target.classList.contains("buy")) openCheckout("item", target.dataset.item);
  else if (target.classList.contains("grab")) openCheckout("sale", target.dataset.sale);
  else if (target.classList.contains("claim")) claim(target.dataset.coupon);
  else if (target.classList.contains("join")) join(target.dataset.draw);
});

$("say").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const input = $("text");
  const text = input.value.trim();
  if (!text) return;
  send({ type: "comment", text });
  input.value = "";
});

$("like").addEventListener("click", () => {
  state.taps += 1;
  const heart = document.createElement("span");
  heart.textContent = "♥";
  heart.style.left = 20 + Math.random() * 60 + "%";
  $("hearts").append(heart);
  setTimeout(() => heart.remove(), 1200);
});

// Taps are summed and sent a few times a second, as the protocol expects.
setInterval(() => {
  if (state.taps > 0) {
    send({ type: "like", count: Math.min(100, state.taps) });
    state.taps = 0;
  }
}, 300);
setInterval(renderSales, 1000);
setInterval(renderPerks, 1000);
// Units left change with every win, which the room does not broadcast: ask every 3 s.
setInterval(async () => {
  for (const sale of state.sales.values()) {
    if (sale.ended_at || Date.parse(sale.ends_at) <= Date.now()) continue;
    const r = await fetch(`/api/v1/flash-sales/${sale.id}`, { credentials: "omit" });
    if (r.ok) state.sales.set(sale.id, await r.json());
  }
}, 3000);

// The merchant's stream: HLS (.m3u8) natively where the browser can (Safari, iOS) or
// with hls.js, FLV with mpegts.js; without a stream the pinned product card is the show.
const video = $("video");
if (video && video.dataset.src) {
  const src = video.dataset.src;
  if (/\.flv(\?|$)/i.test(src) && mpegts.isSupported()) {
    const player = mpegts.createPlayer({ type: "flv", isLive: true, url: src });
    player.attachMediaElement(video);
    player.load();
  } else if (video.canPlayType("application/vnd.apple.mpegurl")) {
    video.src = src;
  } else if (Hls.isSupported()) {
    const hls = new Hls({ lowLatencyMode: true });
    hls.loadSource(src);
    hls.attachMedia(video);
  }
}

renderSales();
connect();
