// The console's script, bundled by esbuild (web/build.mjs): htmx for the parts loaded
// later, Alpine.js (its CSP build: no eval) for small toggles, ECharts for the charts.
// Data comes from <script type="application/json"> blocks the server rendered; nothing
// here builds HTML from strings.
import htmx from "htmx.org";
import Alpine from "@alpinejs/csp";
import * as echarts from "echarts/core";
import { BarChart, FunnelChart, LineChart } from "echarts/charts";
import {
  GridComponent, LegendComponent, MarkAreaComponent, MarkLineComponent, TooltipComponent,
} from "echarts/components";
import { CanvasRenderer } from "echarts/renderers";
import { openRoom } from "./room.js";
import "./screen_tools.js";
import { followAnswerDrafts } from "./answers.js";
import { followTriage } from "./triage.js";

echarts.use([
  LineChart, BarChart, FunnelChart, GridComponent, LegendComponent, MarkAreaComponent,
  MarkLineComponent, TooltipComponent, CanvasRenderer,
]);
window.htmx = htmx;

const COLOURS = {
  online_per_minute: "#d9480f",
  new_viewers_per_minute: "#0b7285",
  gmv_per_minute: "#b08900",
};

function readJson(id) {
  const el = document.getElementById(id);
  return el ? JSON.parse(el.textContent) : null;
}

function minuteLabel(startIso, k) {
  if (!startIso) return String(k);
  const at = new Date(new Date(startIso).getTime() + k * 60000);
  // Beijing time, as the rest of the console shows it.
  return at.toLocaleTimeString("zh-CN", { hour: "2-digit", minute: "2-digit", timeZone: "Asia/Shanghai" });
}

function timeOfDay(ms) {
  return new Date(ms).toLocaleTimeString("zh-CN", {
    hour: "2-digit", minute: "2-digit", second: "2-digit", timeZone: "Asia/Shanghai",
  });
}

// Pins alternate between two shades so that back-to-back pins stay apart.
const MARKER_COLOURS = {
  pin: ["rgba(76, 110, 245, 0.10)", "rgba(76, 110, 245, 0.22)"],
  flash_sale: ["rgba(232, 89, 12, 0.16)", "rgba(232, 89, 12, 0.16)"],
};
const MARKER_LINES = { pin: "#4c6ef5", flash_sale: "#e8590c" };

// Pinned products and flash sales as shaded periods (markArea) over the minutes they
// covered, and a line (markLine) where each began.
function markerOptions(markers, text) {
  const shown = (markers || []).filter((m) => m.minute_from !== null && m.minute_to !== null);
  const label = (m) => `${text["marker_" + m.kind] || m.kind} · ${m.title}`;
  return {
    markArea: {
      silent: false,
      label: { show: false },
      data: shown.map((m, i) => [
        { name: label(m), xAxis: m.minute_from, itemStyle: { color: MARKER_COLOURS[m.kind][i % 2] } },
        { xAxis: m.minute_to },
      ]),
    },
    markLine: {
      symbol: "none",
      label: { show: false },
      data: shown.map((m) => ({
        name: label(m), xAxis: m.minute_from, lineStyle: { color: MARKER_LINES[m.kind], type: "dashed" },
      })),
    },
  };
}

function drawCharts() {
  const data = readJson("chart-data");
  const text = readJson("chart-text");
  if (!data || !(data.curves || data.trend || data.cross)) return;
  const charts = [];
  for (const el of document.querySelectorAll("[data-chart]")) {
    const key = el.dataset.chart;
    const chart = echarts.init(el, null, { renderer: "canvas" });
    if (key === "trend") {
      chart.setOption({
        animation: false,
        grid: { left: 72, right: 64, top: 32, bottom: 28 },
        tooltip: { trigger: "axis" },
        legend: { top: 0 },
        xAxis: { type: "category", data: data.trend.map((r) => r.label) },
        yAxis: [
          { type: "value", axisLabel: { formatter: (v) => "¥" + (v / 100).toLocaleString() } },
          { type: "value" },
        ],
        series: [
          { name: text.gmv, type: "bar", barMaxWidth: 48, data: data.trend.map((r) => r.gmv), itemStyle: { color: "#b08900" },
            tooltip: { valueFormatter: (v) => "¥" + (v / 100).toFixed(2) } },
          { name: text.viewer_uv, type: "line", yAxisIndex: 1, data: data.trend.map((r) => r.viewer_uv),
            itemStyle: { color: "#0b7285" } },
        ],
      });
    } else if (key === "cross_sessions") {
      const rows = data.cross.sessions;
      chart.setOption({
        animation: false,
        grid: { left: 72, right: 16, top: 32, bottom: 28 },
        tooltip: { trigger: "axis", valueFormatter: (v) => "¥" + (v / 100).toFixed(2) },
        legend: { top: 0 },
        xAxis: { type: "category", data: rows.map((r) => r.label) },
        yAxis: { type: "value", axisLabel: { formatter: (v) => "¥" + (v / 100).toLocaleString() } },
        series: [
          { name: text.gmv, type: "bar", barMaxWidth: 40, data: rows.map((r) => r.gmv), itemStyle: { color: "#b08900" } },
          { name: text.net_gmv, type: "bar", barMaxWidth: 40, data: rows.map((r) => r.net_gmv), itemStyle: { color: "#2b8a3e" } },
        ],
      });
    } else if (key === "cross_hours") {
      const hours = data.cross.hours;
      chart.setOption({
        animation: false,
        grid: { left: 72, right: 16, top: 32, bottom: 28 },
        tooltip: { trigger: "axis", valueFormatter: (v) => "¥" + (v / 100).toFixed(2) },
        legend: { top: 0 },
        xAxis: { type: "category", data: hours.map(([h]) => String(h).padStart(2, "0")) },
        yAxis: { type: "value", axisLabel: { formatter: (v) => "¥" + (v / 100).toLocaleString() } },
        series: [
          { name: text.gmv, type: "bar", data: hours.map(([, g]) => g), itemStyle: { color: "#b08900" } },
          { name: text.net_gmv, type: "bar", data: hours.map(([, , n]) => n), itemStyle: { color: "#2b8a3e" } },
        ],
      });
    } else if (key === "funnel") {
      chart.setOption({
        animation: false,
        tooltip: { trigger: "item" },
        series: [{
          type: "funnel", sort: "none", left: "10%", width: "80%", minSize: "8%",
          label: { position: "inside", color: "#fff", formatter: "{b}: {c}" },
          data: data.funnel.map(([k, v]) => ({ name: text[k] || k, value: v })),
        }],
      });
    } else {
      const values = data.curves[key] || [];
      const money = key === "gmv_per_minute";
      chart.setOption({
        animation: false,
        grid: { left: 56, right: 16, top: 16, bottom: 28 },
        tooltip: {
          trigger: "axis",
          valueFormatter: (v) => (money ? "¥" + (v / 100).toFixed(2) : String(v)),
        },
        xAxis: { type: "category", data: values.map((_, k) => minuteLabel(data.started_at, k)) },
        yAxis: {
          type: "value",
          axisLabel: { formatter: (v) => (money ? "¥" + (v / 100).toLocaleString() : v) },
        },
        series: [{
          name: text[key] || key,
          type: money ? "bar" : "line",
          barMaxWidth: 48,
          data: values,
          showSymbol: false,
          itemStyle: { color: COLOURS[key] },
          lineStyle: { color: COLOURS[key] },
          ...markerOptions(data.markers, text),
        }],
      });
      el.dataset.markers = String((data.markers || []).length);
    }
    el.dataset.rendered = "true";
    charts.push(chart);
  }
  window.addEventListener("resize", () => charts.forEach((c) => c.resize()));
}

// "Show all" / "Show fewer" for long lists of findings (Alpine's CSP build: registered
// components only, no expressions evaluated from the page).
Alpine.data("expander", function () {
  return {
    open: false,
    label: "",
    init() {
      this.label = this.$el.querySelector("[data-more]")?.dataset.more || "";
    },
    toggle() {
      this.open = !this.open;
      const button = this.$el.querySelector("[data-more]");
      if (button) this.label = this.open ? button.dataset.less : button.dataset.more;
    },
  };
});
window.Alpine = Alpine;

// --- the live tiles: one EventSource per live session (GET /api/v1/sessions/{id}/live) ---

const NONE = "—";

function showValue(value, how) {
  // The same formatting as the server's `show` filter (analytics/cli_report.py).
  if (value === null || value === undefined) return NONE;
  if (how === "money") {
    return "¥" + (value / 100).toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  }
  if (how === "rate") return (value * 100).toFixed(2) + "%";
  return Number(value).toLocaleString("en-US");
}

function cell(text) {
  const td = document.createElement("td");
  td.textContent = text;
  return td;
}

function paintTile(tile, snap) {
  for (const el of tile.querySelectorAll("[data-live-key]")) {
    const text = showValue(snap[el.dataset.liveKey], el.dataset.how);
    if (el.textContent !== text) el.textContent = text;
  }
  for (const el of tile.querySelectorAll("[data-live-minute]")) {
    const minute = snap.last_minute;
    el.textContent = showValue(minute ? minute[el.dataset.liveMinute] : null, el.dataset.how);
  }
  const body = tile.querySelector("[data-live-products]");
  if (body) {
    const rows = snap.top_products.map((p) => {
      const tr = document.createElement("tr");
      tr.append(cell(p.title || p.product), cell(showValue(p.gmv, "money")),
        cell(showValue(p.order_count, "count")), cell(showValue(p.click_uv, "count")));
      return tr;
    });
    if (!rows.length) {
      const tr = document.createElement("tr");
      const td = cell(body.dataset.empty || "");
      td.colSpan = 4;
      td.className = "muted";
      tr.append(td);
      rows.push(tr);
    }
    body.replaceChildren(...rows);
  }
  tile.dataset.liveAt = String(snap.at_ms);
}

function followLiveTiles() {
  const text = readJson("live-text") || {};
  for (const tile of document.querySelectorAll("[data-live-feed]")) {
    const status = tile.querySelector("[data-live-status]");
    const say = (words) => { if (status) status.textContent = words || ""; };
    const source = new EventSource(tile.dataset.liveFeed);
    // Each message also goes to the tile's own listeners (the big screen's charts).
    const tell = (snap) => tile.dispatchEvent(new CustomEvent("live:snapshot", { detail: snap }));
    source.addEventListener("snapshot", (event) => {
      const snap = JSON.parse(event.data);
      paintTile(tile, snap);
      tell(snap);
      say(text.updating);
    });
    source.addEventListener("end", (event) => {
      const snap = JSON.parse(event.data);
      paintTile(tile, snap);
      tell(snap);
      tile.dataset.ended = "true";
      say(text.ended);
      source.close();
    });
    source.addEventListener("error", () => {
      if (tile.dataset.ended !== "true") say(text.reconnecting);
    });
  }
}

// --- the live big screen (/console/sessions/{id}/screen) -------------------------------
// Its figures are a live tile's (above); here: the online curve and funnel from the same
// feed messages, the room's comments over its WebSocket with the host's moderation, and
// pinning the session's products. Comments are user text: textContent only.

const MAX_SCREEN_COMMENTS = 80;

function csrfToken() {
  // The token base.html gives htmx (hx-headers on <body>), sent the same way.
  const raw = document.body.getAttribute("hx-headers");
  return raw ? JSON.parse(raw)["X-CSRF-Token"] || "" : "";
}

async function hostCall(method, path, body) {
  const init = {
    method, credentials: "same-origin", headers: { "X-CSRF-Token": csrfToken() },
  };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const r = await fetch(path, init);
  if (!r.ok) throw new Error(`${method} ${path}: ${r.status}`);
  return r.status === 204 ? null : r.json();
}

function followScreen() {
  const screen = document.getElementById("screen");
  const boot = readJson("screen-boot");
  if (!screen || !boot) return;
  const text = readJson("screen-text") || {};
  const api = `/api/v1/live-sessions/${encodeURIComponent(boot.session)}`;
  const errorBox = screen.querySelector("[data-screen-error]");
  const fail = (e) => {
    errorBox.textContent = text.screen_failed;
    errorBox.hidden = false;
    clearTimeout(fail.timer);
    fail.timer = setTimeout(() => { errorBox.hidden = true; }, 5000);
    console.warn(e);
  };

  // The curve: minute k -> users online, the recorded curve first, the feed's minutes after.
  const curve = boot.curve.slice();
  const curveEl = screen.querySelector('[data-screen-chart="curve"]');
  const funnelEl = screen.querySelector('[data-screen-chart="funnel"]');
  const curveChart = echarts.init(curveEl, "dark", { renderer: "canvas" });
  const funnelChart = echarts.init(funnelEl, "dark", { renderer: "canvas" });
  const funnelNames = {
    views_pv: text.screen_funnel_views, viewer_uv: text["m.viewer_uv"], buyer_uv: text["m.buyer_uv"],
  };
  let now = null; // the feed's latest: [time label, users online], the curve's last point
  function drawCurve() {
    const labels = curve.map((_, k) => minuteLabel(boot.started_at, k));
    const values = curve.slice();
    if (now) { labels.push(now[0]); values.push(now[1]); }
    curveChart.setOption({
      backgroundColor: "transparent",
      animation: false,
      grid: { left: 56, right: 40, top: 16, bottom: 28 },
      tooltip: { trigger: "axis" },
      xAxis: { type: "category", boundaryGap: false, data: labels },
      yAxis: { type: "value", minInterval: 1 },
      series: [{
        name: text.screen_curve, type: "line", data: values, showSymbol: values.length < 40,
        areaStyle: { opacity: 0.2 },
        itemStyle: { color: "#ff8a3d" }, lineStyle: { color: "#ff8a3d" },
      }],
    });
    curveEl.dataset.points = String(values.length);
  }
  function drawFunnel(snap) {
    funnelChart.setOption({
      backgroundColor: "transparent",
      animation: false,
      tooltip: { trigger: "item" },
      series: [{
        type: "funnel", sort: "none", left: "4%", width: "52%", minSize: "6%",
        label: { position: "right", color: "#e6edf3", formatter: "{b}: {c}" },
        data: boot.funnel.map((k) => ({ name: funnelNames[k] || k, value: snap[k] || 0 })),
      }],
    });
  }
  drawCurve();
  drawFunnel(boot.snap);
  screen.addEventListener("live:snapshot", (event) => {
    const snap = event.detail;
    if (!boot.started_at && snap.started_ms) boot.started_at = new Date(snap.started_ms).toISOString();
    for (const row of snap.minutes || []) {
      while (curve.length < row.minute) curve.push(curve.length ? curve[curve.length - 1] : 0);
      curve[row.minute] = row.online;
    }
    // The running minute's point is the users online now (its instant's figure is above).
    now = snap.state === "live" ? [timeOfDay(snap.at_ms), snap.online] : null;
    drawCurve();
    drawFunnel(snap);
  });
  window.addEventListener("resize", () => { curveChart.resize(); funnelChart.resize(); });

  // Products: pin one (the product the host explains now) or unpin it.
  function showPinnedItem(itemId) {
    boot.pinned = itemId;
    for (const li of screen.querySelectorAll("[data-item]")) {
      const on = li.dataset.item === itemId;
      li.querySelector("[data-pinned-mark]").hidden = !on;
      const button = li.querySelector("[data-pin-item]");
      if (button) {
        button.setAttribute("aria-pressed", String(on));
        button.textContent = on ? button.dataset.unpin : button.dataset.pin;
      }
    }
  }
  for (const button of screen.querySelectorAll("[data-pin-item]")) {
    button.addEventListener("click", async () => {
      const item = button.dataset.pinItem;
      button.disabled = true;
      try {
        const read = boot.pinned === item
          ? await hostCall("DELETE", `${api}/pin`)
          : await hostCall("PUT", `${api}/pin`, { item_id: item });
        showPinnedItem(read && read.pinned ? read.pinned.item_id : null);
      } catch (e) {
        fail(e);
      } finally {
        button.disabled = false;
      }
    });
  }

  // Comments: the room's stream, with delete and pin for each.
  const list = screen.querySelector("[data-testid=screen-comments]");
  const pinnedBox = screen.querySelector("[data-testid=pinned-comment]");
  const roomStatus = screen.querySelector("[data-room-status]");
  function emptyNote() {
    if (list.children.length === 0) {
      const li = document.createElement("li");
      li.className = "muted";
      li.dataset.empty = "true";
      li.textContent = text.screen_no_comments;
      list.append(li);
    }
  }
  function actButton(label, act) {
    const b = document.createElement("button");
    b.type = "button";
    b.textContent = label;
    b.addEventListener("click", async () => {
      b.disabled = true;
      try { await act(); } catch (e) { fail(e); } finally { b.disabled = false; }
    });
    return b;
  }
  function addComment(m) {
    list.querySelector("[data-empty]")?.remove();
    const li = document.createElement("li");
    li.dataset.id = m.id;
    const who = document.createElement("b");
    who.textContent = (m.user || "").slice(-4) + "：";
    const words = document.createElement("span");
    words.className = "words";
    words.textContent = m.text;
    const tools = document.createElement("span");
    tools.className = "tools";
    tools.append(
      actButton(text.screen_pin_comment, () => hostCall("PUT", `${api}/pinned-comment`, { comment_id: m.id })),
      actButton(text.screen_delete_comment, () =>
        hostCall("DELETE", `${api}/comments/${encodeURIComponent(m.id)}`)),
    );
    li.append(who, words, tools);
    list.append(li);
    while (list.children.length > MAX_SCREEN_COMMENTS) list.firstChild.remove();
    list.scrollTop = list.scrollHeight;
  }
  function showPinnedComment(c) {
    pinnedBox.hidden = !c;
    pinnedBox.querySelector("[data-pinned-text]").textContent = c ? `${(c.user || "").slice(-4)}：${c.text}` : "";
    pinnedBox.dataset.id = c ? c.id : "";
  }
  pinnedBox.querySelector("[data-unpin-comment]").addEventListener("click", () =>
    hostCall("DELETE", `${api}/pinned-comment`).catch(fail));
  function onMessage(m) {
    switch (m.type) {
      case "comment": addComment(m); break;
      case "comment_deleted":
        list.querySelector(`li[data-id="${CSS.escape(m.id)}"]`)?.remove();
        emptyNote();
        break;
      case "pinned_comment": showPinnedComment(m.comment); break;
      case "pin": showPinnedItem(m.item ? m.item.item_id : null); break;
      default: break; // the rest of the room is for the viewers' page
    }
  }
  emptyNote();
  if (boot.state !== "live") return;
  // Other panels of the screen (answer drafts) speak in the room through this connection
  // and hear its acks and errors as "room:frame" events: one socket, one viewer counted.
  screen.room = openRoom({
    session: boot.session,
    // The staff member's browser session cookie identifies them (same origin).
    hello: () => ({ type: "hello", v: 1, source: "other" }),
    onStatus: (what) => {
      roomStatus.textContent = what === "open" ? text.screen_room_connected
        : what === "ended" ? text.live_ended : text.live_reconnecting;
    },
    onFrame: (msg) => {
      screen.dispatchEvent(new CustomEvent("room:frame", { detail: msg }));
      if (msg.type === "snapshot") {
        list.replaceChildren();
        for (const c of msg.comments || []) addComment(c);
        emptyNote();
        showPinnedComment(msg.pinned_comment);
        showPinnedItem(msg.pinned ? msg.pinned.item_id : null);
        screen.dataset.roomSeq = String(msg.seq);
      } else if (msg.type === "frame") {
        for (const m of msg.msgs) onMessage(m);
      }
    },
  });
}

document.addEventListener("DOMContentLoaded", () => {
  followScreen(); // before the tiles: it listens to the feed's first message
  followAnswerDrafts();
  followTriage(); // the big screen's comment triage (web/src/triage.js)
  followLiveTiles();
  drawCharts();
  Alpine.start();
  document.documentElement.dataset.ready = "true";
});
// Fragments that htmx inserts later (the authenticity panel) are initialised by
// Alpine's own mutation observer.

// A fragment that failed to load says so instead of "loading…" forever.
document.addEventListener("htmx:responseError", (event) => {
  const target = event.detail.target;
  if (target && target.dataset.failed) {
    const note = document.createElement("p");
    note.className = "error";
    note.textContent = target.dataset.failed;
    target.replaceChildren(note);
  }
});
