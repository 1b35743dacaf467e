// The host's tools on the big screen (templates/console/_screen_tools.html): drop a
// coupon, start a flash sale, end one. Amounts are typed in yuan and turned into integer
// fen from the text (never through a float); the live API checks every field again and
// its refusal is shown beside the form.

function readJson(id) {
  const el = document.getElementById(id);
  return el ? JSON.parse(el.textContent) : null;
}

function csrfToken() {
  const raw = document.body.getAttribute("hx-headers");
  return raw ? JSON.parse(raw)["X-CSRF-Token"] || "" : "";
}

// "39.9" -> 3990; null for anything but a plain amount with at most two decimals.
export function yuanToFen(text) {
  const m = /^\s*¥?\s*(\d{1,9})(?:\.(\d{1,2}))?\s*$/.exec(text || "");
  if (!m) return null;
  return Number(m[1]) * 100 + Number((m[2] || "").padEnd(2, "0"));
}

function whole(text) {
  return /^\s*\d{1,9}\s*$/.test(text || "") ? Number(text) : null;
}

async function post(path, body) {
  const r = await fetch(path, {
    method: "POST",
    credentials: "same-origin",
    headers: {
      "Content-Type": "application/json",
      "X-CSRF-Token": csrfToken(),
      "Idempotency-Key": crypto.randomUUID(),
    },
    body: JSON.stringify(body),
  });
  const data = await r.json().catch(() => ({}));
  if (!r.ok) {
    const first = Array.isArray(data.errors) && data.errors[0];
    throw new Error(first ? `${first.loc ? first.loc.join(".") + ": " : ""}${first.msg}` : data.detail || data.title || String(r.status));
  }
  return data;
}

function setupTools() {
  const box = document.querySelector("[data-testid=host-tools]");
  if (!box) return;
  const text = readJson("tools-text") || {};
  const session = encodeURIComponent(box.dataset.session);
  const list = box.querySelector("[data-testid=running-sales]");

  const say = (form, error, done) => {
    const e = form.querySelector("[data-tool-error]");
    const d = form.querySelector("[data-tool-done]");
    e.textContent = error || ""; e.hidden = !error;
    d.textContent = done || ""; d.hidden = !done;
  };

  const addSale = (sale) => {
    const empty = list.querySelector("li.muted");
    if (empty) empty.remove();
    const li = document.createElement("li");
    li.dataset.sale = sale.id;
    const price = "¥" + (sale.price / 100).toFixed(2);
    li.textContent = `${sale.title} · ${price} · ${text.left.replace("{n}", sale.remaining)} `;
    const end = document.createElement("button");
    end.type = "button";
    end.dataset.endSale = sale.id;
    end.textContent = text.end;
    li.append(end);
    list.append(li);
  };

  box.querySelector("[data-tool=coupon]").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const f = ev.target;
    const amount = yuanToFen(f.amount.value);
    const threshold = yuanToFen(f.threshold.value || "0");
    const quantity = whole(f.quantity.value);
    const minutes = whole(f.minutes.value);
    if (amount === null || threshold === null) { say(f, text.bad_amount); return; }
    if (quantity === null || minutes === null) { say(f, text.bad_whole); return; }
    try {
      await post(`/api/v1/live-sessions/${session}/coupons`, {
        amount, threshold, quantity, claim_seconds: minutes * 60,
      });
      say(f, "", text.dropped);
    } catch (e) {
      say(f, text.refused.replace("{why}", e.message));
    }
  });

  box.querySelector("[data-tool=flash]").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const f = ev.target;
    const [itemId, skuId] = (f.sku.value || "|").split("|");
    const price = yuanToFen(f.price.value);
    const units = whole(f.units.value);
    const limit = whole(f.limit.value);
    const minutes = whole(f.minutes.value);
    if (price === null) { say(f, text.bad_amount); return; }
    if (units === null || limit === null || minutes === null) { say(f, text.bad_whole); return; }
    try {
      const sale = await post(`/api/v1/live-sessions/${session}/flash-sales`, {
        item_id: itemId, sku_id: skuId, price, units, per_user_limit: limit,
        duration_seconds: minutes * 60,
      });
      addSale(sale);
      say(f, "", text.started);
    } catch (e) {
      say(f, text.refused.replace("{why}", e.message));
    }
  });

  list.addEventListener("click", async (ev) => {
    const button = ev.target.closest("[data-end-sale]");
    if (!button) return;
    button.disabled = true;
    try {
      await post(`/api/v1/flash-sales/${encodeURIComponent(button.dataset.endSale)}/end`, {});
      button.closest("li").remove();
      if (!list.children.length) {
        const li = document.createElement("li");
        li.className = "muted";
        li.textContent = text.none;
        list.append(li);
      }
    } catch (e) {
      button.disabled = false;
      const form = box.querySelector("[data-tool=flash]");
      say(form, text.refused.replace("{why}", e.message));
    }
  });
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", setupTools);
else setupTools();
