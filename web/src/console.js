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
    source.addEventListener("snapshot", (event) => {
      paintTile(tile, JSON.parse(event.data));
      say(text.updating);
    });
    source.addEventListener("end", (event) => {
      paintTile(tile, JSON.parse(event.data));
      tile.dataset.ended = "true";
      say(text.ended);
      source.close();
    });
    source.addEventListener("error", () => {
      if (tile.dataset.ended !== "true") say(text.reconnecting);
    });
  }
}

document.addEventListener("DOMContentLoaded", () => {
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
