// The big screen's comment triage (issue 10): polls the session's triage and paints the
// question queue, the purchase-intent meter per product and the after-sales complaints.
// A click on a queued question dispatches `daihuo:ask` on window with {text, product}
// (the answer-draft panel listens for it). Comments are user text: textContent only.

const EVERY_MS = 2000;

function readText() {
  const el = document.getElementById("triage-text");
  return el ? JSON.parse(el.textContent) : {};
}

function productLabel(text, p) {
  if (!p) return "";
  return `${(text.link || "{n}").replace("{n}", String(p.position))} · ${p.title}`;
}

function entry(text, item, asButton) {
  const li = document.createElement("li");
  li.dataset.id = item.id;
  const holder = asButton ? document.createElement("button") : li;
  if (asButton) {
    holder.type = "button";
    holder.className = "ask";
    holder.addEventListener("click", () => {
      window.dispatchEvent(new CustomEvent("daihuo:ask", {
        detail: { text: item.text, product: item.product },
      }));
    });
    li.append(holder);
  }
  const words = document.createElement("span");
  words.className = "words";
  words.textContent = item.text;
  holder.append(words);
  const label = productLabel(text, item.product);
  if (label) {
    const tag = document.createElement("span");
    tag.className = "tag";
    tag.textContent = label;
    holder.append(" ", tag);
  }
  return li;
}

function fill(list, items, make, emptyText) {
  if (items.length === 0) {
    const li = document.createElement("li");
    li.className = "muted";
    li.dataset.empty = "true";
    li.textContent = emptyText;
    list.replaceChildren(li);
    return;
  }
  list.replaceChildren(...items.map(make));
}

export function followTriage() {
  const box = document.querySelector("[data-triage]");
  if (!box) return;
  const text = readText();
  const questions = box.querySelector("[data-triage-questions]");
  const complaints = box.querySelector("[data-triage-complaints]");
  const meter = box.querySelector("[data-triage-meter]");
  const unattributed = box.querySelector("[data-triage-unattributed]");
  const errorBox = box.querySelector("[data-triage-error]");

  function paint(data) {
    fill(questions, data.questions, (q) => entry(text, q, true), text.no_questions);
    fill(complaints, data.complaints, (c) => entry(text, c, false), text.no_complaints);
    const top = Math.max(1, ...data.purchase_intent.map((p) => p.count));
    for (const p of data.purchase_intent) {
      const li = meter.querySelector(`li[data-meter-item="${CSS.escape(p.item_id)}"]`);
      if (!li) continue;
      const bar = li.querySelector("meter");
      bar.max = top;
      bar.value = p.count;
      li.querySelector("[data-count]").textContent = String(p.count);
    }
    const rest = data.purchase_intent_unattributed;
    unattributed.hidden = rest === 0;
    unattributed.textContent = (text.unattributed || "{n}").replace("{n}", String(rest));
    box.dataset.counts = JSON.stringify(data.counts);
  }

  async function refresh() {
    try {
      const r = await fetch(box.dataset.triage, {
        credentials: "same-origin", headers: { Accept: "application/json" },
      });
      if (!r.ok) throw new Error(`triage: ${r.status}`);
      paint(await r.json());
      errorBox.hidden = true;
    } catch (e) {
      errorBox.hidden = false;
      console.error(e);
    }
    if (box.dataset.live === "true") setTimeout(refresh, EVERY_MS);
  }
  refresh();
}
