// The wf daemon's status page: polls /status/data.json and draws it with plain DOM and hand-made SVG (no libraries,
// nothing loaded from elsewhere). Text from the daemon only ever goes into textContent, never into HTML.
"use strict";

const REFRESH_MS = 5000;
const SVG_NS = "http://www.w3.org/2000/svg";
let lastSuccess = null;

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else node.setAttribute(key, value);
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function svg(tag, attrs) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (key === "text") node.textContent = value;
    else node.setAttribute(key, value);
  }
  return node;
}

// Status names (SkyServe's) to a colour class.
function tone(status) {
  if (status === "READY") return "ok";
  if (status.startsWith("FAILED") || status === "PREEMPTED" || status === "NOT_READY") return "bad";
  if (status === "NO_REPLICA" || status === "SHUTTING_DOWN" || status === "UNKNOWN") return "idle";
  return "warn";
}

function kindTone(kind) {
  if (kind === "replica_failed" || kind === "service_failed" || kind === "backoff") return "bad";
  if (kind === "ready" || kind === "service_created") return "ok";
  if (kind === "scale_up" || kind === "scale_down" || kind === "service_updated") return "info";
  return "idle";
}

function badge(text, cls) {
  return el("span", { class: "badge " + cls, text: text });
}

function money(perHour) {
  return "$" + perHour.toFixed(2);
}

function qps(value) {
  return value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2);
}

function ms(value) {
  return value === null || value === undefined ? "–" : value >= 100 ? value.toFixed(0) + " ms" : value.toFixed(1) + " ms";
}

// As `wf status` writes ages: "2d 3h", "4h 5m", "6m 7s", "8s".
function age(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  if (s >= 86400) return Math.floor(s / 86400) + "d " + Math.floor((s % 86400) / 3600) + "h";
  if (s >= 3600) return Math.floor(s / 3600) + "h " + Math.floor((s % 3600) / 60) + "m";
  if (s >= 60) return Math.floor(s / 60) + "m " + (s % 60) + "s";
  return s + "s";
}

function utcTime(iso) {
  return new Date(iso).toISOString().slice(11, 19);
}

function renderSummary(data) {
  const services = data.services;
  const ready = services.reduce((n, s) => n + s.ready_replicas, 0);
  const target = services.reduce((n, s) => n + s.target_replicas, 0);
  const load = services.reduce((n, s) => n + s.qps, 0);
  const cost = services.reduce((n, s) => n + s.cost_per_hour, 0);
  const card = (label, value, id) => el("div", { class: "card", id: id }, el("div", { class: "label", text: label }), el("div", { class: "value", text: value }));
  document.getElementById("summary").replaceChildren(
    card("Services", String(services.length), "total-services"),
    card("Ready / target replicas", ready + " / " + target, "total-replicas"),
    card("Requests / s", qps(load), "total-qps"),
    card("Cost / hour", money(cost), "total-cost"));
}

function renderServices(services) {
  const rows = services.map(s => el("tr", { "data-service": s.name },
    el("td", {}, el("a", { href: "#service-" + s.name, text: s.name })),
    el("td", { class: "status" }, badge(s.status, tone(s.status))),
    el("td", { class: "num", text: "v" + s.version }),
    el("td", { class: "mono endpoint", text: s.endpoint }),
    el("td", { class: "num replicas", text: s.ready_replicas + " / " + s.target_replicas }),
    el("td", { class: "num qps", text: qps(s.qps) }),
    el("td", { class: "num", text: ms(s.ttft_p50_ms) }),
    el("td", { class: "num cost", text: money(s.cost_per_hour) })));
  document.querySelector("#services tbody").replaceChildren(...rows);
  document.getElementById("no-services").hidden = services.length > 0;
  document.getElementById("services").hidden = services.length === 0;
}

// One band per tier, cheapest first: replicas fill the first band, and when it is full the next one ("spillover").
function renderTiers(service) {
  const box = el("div", { class: "tiers" });
  // True while every tier so far is full: a later tier holding replicas then carries the spillover.
  let cheaperAllFull = false;
  service.tiers.forEach((tier, index) => {
    const replicas = service.replicas.filter(r => r.tier === tier.name && !r.status.startsWith("FAILED") && r.status !== "PREEMPTED");
    const full = tier.capacity !== null && tier.used >= tier.capacity;
    const spill = index > 0 && cheaperAllFull && tier.used > 0;
    const bar = el("div", { class: "tier-bar" + (tier.capacity === null ? " open" : ""), role: "img",
      "aria-label": tier.used + " of " + (tier.capacity === null ? "unlimited" : tier.capacity) + " replicas" });
    const slots = tier.capacity === null ? tier.used : Math.min(tier.capacity, 64);
    for (let i = 0; i < slots; i++) {
      const r = replicas[i];
      bar.append(el("div", { class: r ? "slot used " + tone(r.status) : (i < tier.used ? "slot used ok" : "slot"),
        title: r ? "replica " + r.id + ": " + r.status : "free" }));
    }
    if (tier.capacity === null) bar.append(el("div", { class: "unlimited", text: "∞ unlimited" }));
    const capacity = tier.capacity === null ? "∞" : String(tier.capacity);
    box.append(el("div", { class: "tier-band" + (full ? " full" : "") + (spill ? " spill" : "") + (tier.in_spec ? "" : " gone"), "data-tier": tier.name,
      "data-used": tier.used, "data-capacity": tier.capacity === null ? "unlimited" : tier.capacity },
      el("div", { class: "tier-label" }, el("b", { text: tier.name }),
        el("span", { text: tier.provider + (tier.spot ? " spot" : "") + " · " + money(tier.cost_per_hour) + "/h" + (tier.in_spec ? "" : " · not in spec") })),
      bar,
      el("div", { class: "tier-count", text: tier.used + " / " + capacity + " used, " + tier.ready + " ready" })));
    cheaperAllFull = full && (index === 0 || cheaperAllFull);
  });
  return box;
}

// A line chart of one metric over the history window, drawn by hand: x is time (last hour, ending now), y starts at 0.
// format writes the latest value (with its unit), axis the grid labels (short: the unit is in the title).
function chart(metric, title, points, windowSeconds, format, axis) {
  const W = 360, H = 120, left = 44, right = 8, top = 8, bottom = 18;
  const box = el("div", { class: "chart-box" });
  const values = points.filter(p => p.v !== null && p.v !== undefined);
  const latest = values.length ? format(values[values.length - 1].v) : "–";
  box.append(el("div", { class: "chart-title" }, el("span", { text: title }), el("b", { text: latest })));
  const root = svg("svg", { class: "chart", "data-metric": metric, "data-points": String(values.length), viewBox: "0 0 " + W + " " + H,
    role: "img", "aria-label": title + " over the last hour" });
  const end = points.length ? points[points.length - 1].t : Date.now();
  const start = end - windowSeconds * 1000;
  const max = niceMax(Math.max(0, ...values.map(p => p.v)));
  const x = t => left + (W - left - right) * Math.min(1, Math.max(0, (t - start) / (end - start || 1)));
  const y = v => top + (H - top - bottom) * (1 - v / max);
  for (const v of [0, max / 2, max]) {
    root.append(svg("line", { class: "grid-line", x1: left, x2: W - right, y1: y(v), y2: y(v) }));
    root.append(svg("text", { class: "axis-label", x: left - 4, y: y(v) + 3, "text-anchor": "end", text: axis(v) }));
  }
  const minutes = Math.round(windowSeconds / 60);
  root.append(svg("text", { class: "axis-label", x: left, y: H - 4, "text-anchor": "start", text: "-" + minutes + " min" }));
  root.append(svg("text", { class: "axis-label", x: W - right, y: H - 4, "text-anchor": "end", text: "now" }));
  if (values.length === 0) {
    root.append(svg("text", { class: "no-data", x: (left + W) / 2, y: H / 2, "text-anchor": "middle", text: "no data yet" }));
  } else {
    // A missing value (no ready replica reported TTFT) breaks the line rather than drawing it at 0.
    let segment = [];
    const flush = () => {
      if (segment.length > 1) {
        const line = segment.map(p => x(p.t).toFixed(1) + "," + y(p.v).toFixed(1)).join(" ");
        root.append(svg("polygon", { class: "area", points: x(segment[0].t).toFixed(1) + "," + y(0) + " " + line + " " + x(segment[segment.length - 1].t).toFixed(1) + "," + y(0) }));
        root.append(svg("polyline", { class: "line", points: line }));
      }
      segment = [];
    };
    for (const p of points) {
      if (p.v === null || p.v === undefined) flush(); else segment.push(p);
    }
    flush();
    values.forEach((p, i) => {
      const last = i === values.length - 1;
      if (last || values.length <= 60) {
        root.append(svg("circle", { class: "pt" + (last ? " last" : ""), cx: x(p.t).toFixed(1), cy: y(p.v).toFixed(1), r: last ? 3 : 1.8 }));
      }
    });
  }
  box.append(root);
  return box;
}

// Grid labels: at most 4 significant characters.
function short(v) {
  if (v >= 1000) return (v / 1000).toFixed(v >= 10000 ? 0 : 1) + "k";
  return v >= 10 || v === 0 ? v.toFixed(0) : v >= 1 ? v.toFixed(1) : v.toFixed(2);
}

function niceMax(v) {
  if (!(v > 0)) return 1;
  const power = Math.pow(10, Math.floor(Math.log10(v * 1.1)));
  for (const step of [1, 2, 2.5, 5, 10]) {
    if (step * power >= v * 1.1) return step * power;
  }
  return 10 * power;
}

function renderCharts(service, windowSeconds) {
  const series = key => service.history.map(h => ({ t: Date.parse(h.at), v: h[key] }));
  return el("div", { class: "charts" },
    chart("qps", "Requests / s", series("qps"), windowSeconds, qps, short),
    chart("ttft", "TTFT p50 (ms)", series("ttft_p50_ms"), windowSeconds, ms, short),
    chart("cost", "Cost / hour ($)", series("cost_per_hour"), windowSeconds, money, short));
}

function renderReplicas(service) {
  if (service.replicas.length === 0) {
    return el("p", { class: "empty", text: "No replicas" + (service.target_replicas === 0 ? ": scaled to zero until the next request." : " yet.") });
  }
  const head = el("thead", {}, el("tr", {}, ...["ID", "Tier", "Status", "Version", "Endpoint", "Age", "TTFT p50", "Last failure"]
    .map((h, i) => el("th", { class: [0, 3, 5, 6].includes(i) ? "num" : null, text: h }))));
  const rows = service.replicas.map(r => el("tr", { "data-replica": r.id },
    el("td", { class: "num", text: String(r.id) }),
    el("td", { class: "tier", text: r.tier }),
    el("td", { class: "status" }, badge(r.status, tone(r.status))),
    el("td", { class: "num", text: "v" + r.version }),
    el("td", { class: "mono", text: r.endpoint || "–" }),
    el("td", { class: "num", text: age(r.age_seconds) }),
    el("td", { class: "num", text: ms(r.ttft_p50_ms) }),
    el("td", { class: "failure", text: r.last_failure || "" })));
  return el("table", { class: "grid replicas" }, head, el("tbody", {}, ...rows));
}

function renderDetails(data) {
  const sections = data.services.map(s => el("section", { class: "panel service", id: "service-" + s.name, "data-service": s.name },
    el("div", { class: "service-head" }, el("h2", { text: s.name }), badge(s.status, tone(s.status)),
      el("span", { class: "endpoint", text: s.endpoint })),
    el("h3", { text: "Tiers (cheapest first)" }), renderTiers(s),
    el("h3", { text: "Last hour" }), renderCharts(s, data.history_seconds),
    el("h3", { text: "Replicas" }), renderReplicas(s)));
  document.getElementById("details").replaceChildren(...sections);
}

function renderEvents(events) {
  const rows = events.map(e => el("tr", { "data-kind": e.kind, "data-service": e.service },
    el("td", { class: "mono", title: e.at, text: utcTime(e.at) }),
    el("td", { text: e.service }),
    el("td", {}, badge(e.kind, kindTone(e.kind))),
    el("td", { class: "num", text: e.replica_id === null || e.replica_id === undefined ? "–" : String(e.replica_id) }),
    el("td", { class: "message", text: e.message })));
  document.querySelector("#events tbody").replaceChildren(...rows);
  document.getElementById("no-events").hidden = events.length > 0;
  document.getElementById("events").hidden = events.length === 0;
}

function render(data) {
  renderSummary(data);
  renderServices(data.services);
  renderDetails(data);
  renderEvents(data.events);
  document.body.dataset.rendered = String(Date.now());
}

async function refresh() {
  const conn = document.getElementById("conn");
  try {
    const response = await fetch("/status/data.json", { cache: "no-store" });
    if (!response.ok) throw new Error("HTTP " + response.status);
    const data = await response.json();
    render(data);
    lastSuccess = data.generated_at;
    conn.hidden = true;
    document.getElementById("updated").textContent = "updated " + utcTime(data.generated_at) + " UTC";
  } catch (error) {
    conn.hidden = false;
    conn.textContent = "daemon unreachable (" + error.message + ")" + (lastSuccess ? ", showing " + utcTime(lastSuccess) + " UTC" : "");
  } finally {
    setTimeout(refresh, REFRESH_MS);
  }
}

refresh();
