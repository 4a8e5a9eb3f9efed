/* The console dashboard: park overview, live alerts, hourly trends, energy-flow Sankey and
   per-enterprise drill-down, all from the console's own API with the token the user gives
   (kept in this tab's sessionStorage; a #token=... fragment is taken once and removed).
   The Management tab is drawn by management.js with the same token and enterprise choice. */
"use strict";
(function () {
  const $ = (sel) => document.querySelector(sel);
  const state = { token: null, enterprise: "", hours: 0, timer: null, view: "ops", ready: null, mgmtRun: 0 };

  function takeToken() {
    const m = location.hash.match(/token=([^&]+)/);
    if (m) {
      sessionStorage.setItem("nt-token", decodeURIComponent(m[1]));
      history.replaceState(null, "", location.pathname + location.search);
    }
    return sessionStorage.getItem("nt-token");
  }

  function status(text) { $("#status").textContent = text; }

  async function api(path, params) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(params || {})) {
      if (v === null || v === undefined || v === "") continue;
      if (Array.isArray(v)) v.forEach(x => q.append(k, x)); else q.set(k, v);
    }
    const resp = await fetch(`/api/v1/${path}${q.toString() ? "?" + q : ""}`,
                             { headers: { Authorization: `Bearer ${state.token}` } });
    if (resp.status === 401) { sessionStorage.removeItem("nt-token"); showLogin(); throw new Error("token refused"); }
    if (!resp.ok) throw new Error(`${path}: HTTP ${resp.status}`);
    return resp.json();
  }

  function period() {
    if (!state.hours) return {};
    const end = Date.now();
    return { start_ms: end - state.hours * 3600e3, end_ms: end };
  }

  const fmt = (x, d = 2) => (x === null || x === undefined) ? "–" : Number(x).toFixed(d);
  const when = (ms) => ms ? new Date(ms).toISOString().replace("T", " ").slice(0, 16) : "–";
  function cell(tr, text, cls) { const td = document.createElement("td"); td.textContent = text; if (cls) td.className = cls; tr.appendChild(td); return td; }

  async function loadOverview() {
    const [park, ents, tce, co2] = await Promise.all([
      api("park"), api("enterprises"), api("energy/tce", period()),
      api("emissions", { group_by: ["enterprise"], ...period() })]);
    $("#park-name").textContent = park.name || park.id;
    const sel = $("#enterprise");
    if (sel.options.length === 1) {
      for (const e of ents.items) { const o = document.createElement("option"); o.value = e.id; o.textContent = e.name; sel.appendChild(o); }
    }
    const tceBy = Object.fromEntries(tce.items.map(r => [r.enterprise, r.tce]));
    const co2By = Object.fromEntries(co2.items.map(r => [r.enterprise, r.co2e_t]));
    const cards = $("#cards"); cards.textContent = "";
    for (const e of ents.items) {
      if (state.enterprise && e.id !== state.enterprise) continue;
      const c = document.createElement("div"); c.className = "card"; c.dataset.enterprise = e.id;
      c.innerHTML = "<b></b><span class=num></span> tce<br><span class=num></span> t CO₂e";
      c.querySelector("b").textContent = `${e.name} (${e.industry})`;
      const nums = c.querySelectorAll(".num");
      nums[0].textContent = fmt(tceBy[e.id], 3); nums[1].textContent = fmt(co2By[e.id], 3);
      c.addEventListener("click", () => { sel.value = e.id; sel.dispatchEvent(new Event("change")); });
      cards.appendChild(c);
    }
  }

  async function loadAlerts() {
    const data = await api("alerts", { enterprise: state.enterprise, limit: 50 });
    const body = $("#alert-list tbody"); body.textContent = "";
    $("#alert-count").textContent = `(${data.items.filter(a => a.active).length} active)`;
    for (const a of data.items) {
      const tr = document.createElement("tr"); tr.className = "alert"; tr.dataset.alertId = a.alert_id;
      cell(tr, when(a.raised_ms)); cell(tr, a.severity, `sev-${a.severity}`); cell(tr, a.rule_id);
      cell(tr, a.scope); cell(tr, `${fmt(a.raised_value)} / ${fmt(a.threshold)}`);
      cell(tr, a.active ? "active" : `cleared ${when(a.cleared_ms)}`);
      const td = cell(tr, a.acknowledged ? `ack: ${a.ack_by}` : "");
      if (!a.acknowledged) {
        const b = document.createElement("button"); b.textContent = "acknowledge";
        b.addEventListener("click", async () => {
          const r = await fetch(`/api/v1/alerts/${encodeURIComponent(a.alert_id)}/ack`, {
            method: "POST", headers: { Authorization: `Bearer ${state.token}`, "Content-Type": "application/json" },
            body: JSON.stringify({ note: "" }) });
          status(r.ok ? "acknowledged" : `acknowledge refused (HTTP ${r.status})`);
          loadAlerts().catch(e => status(e.message));
        });
        td.appendChild(b);
      }
      body.appendChild(tr);
    }
    if (!data.items.length) { const tr = document.createElement("tr"); cell(tr, "no alerts"); body.appendChild(tr); }
  }

  async function loadTrends() {
    const p = { enterprise: state.enterprise, bucket: "hour", ...period() };
    const [en, em] = await Promise.all([api("energy/consumption", p), api("emissions", { ...p, group_by: [] })]);
    const byHour = new Map();
    // comprehensive consumption: inputs minus exports (generated energy is made from inputs)
    const sign = { purchased: 1, fuel: 1, feedstock: 1, exported: -1 };
    for (const r of en.items) { const h = byHour.get(r.bucket_ms) || { tce: 0, co2: 0 }; h.tce += (sign[r.use] || 0) * r.kgce / 1000; byHour.set(r.bucket_ms, h); }
    for (const r of em.items) { const h = byHour.get(r.bucket_ms) || { tce: 0, co2: 0 }; h.co2 += r.co2e_t; byHour.set(r.bucket_ms, h); }
    const pts = [...byHour.entries()].sort((a, b) => a[0] - b[0]);
    const svg = $("#trend-chart"); while (svg.firstChild) svg.removeChild(svg.firstChild);
    const NS = "http://www.w3.org/2000/svg", W = 900, H = 240, L = 50, B = 30;
    const add = (n, attrs) => { const e = document.createElementNS(NS, n); for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v); svg.appendChild(e); return e; };
    if (!pts.length) { add("text", { x: W / 2, y: H / 2, "text-anchor": "middle" }).textContent = "no data in this period"; return; }
    const series = [["tce", "#3e7cb1", "energy tce"], ["co2", "#b3261e", "t CO₂e"]];
    series.forEach(([key, color, label], i) => {
      const max = Math.max(...pts.map(p => p[1][key])) || 1;
      const x = (j) => L + (pts.length === 1 ? 0 : j * (W - L - 10) / (pts.length - 1));
      const y = (v) => H - B - v / max * (H - B - 20);
      add("polyline", { points: pts.map((p, j) => `${x(j)},${y(p[1][key])}`).join(" "), fill: "none", stroke: color, "stroke-width": 2 });
      pts.forEach((p, j) => add("circle", { cx: x(j), cy: y(p[1][key]), r: 3, fill: color }));
      add("text", { x: L + i * 200, y: 12, fill: color }).textContent = `${label} (max ${fmt(max, 3)}/h)`;
    });
    add("text", { x: L, y: H - 8 }).textContent = when(pts[0][0]);
    add("text", { x: W - 10, y: H - 8, "text-anchor": "end" }).textContent = when(pts[pts.length - 1][0]);
  }

  async function loadFlow() {
    const f = await api("energy/flow", { enterprise: state.enterprise, ...period() });
    window.NengtanSankey.draw($("#sankey"), f, "tce");
    const body = $("#balance tbody"); body.textContent = "";
    for (const b of f.balance) {
      const tr = document.createElement("tr"); cell(tr, b.carrier);
      cell(tr, `${fmt(b.input_quantity, 1)} ${b.uom || ""}`, "num");
      for (const k of ["input_tce", "generated_tce", "to_conversion_tce", "exported_tce", "end_use_metered_tce", "unmetered_and_losses_tce"]) cell(tr, fmt(b[k], 3), "num");
      body.appendChild(tr);
    }
  }

  async function refresh() {
    status("loading…");
    try {
      await Promise.all([loadOverview(), loadAlerts(), loadTrends(), loadFlow()]);
      status(`updated ${new Date().toLocaleTimeString()}`);
      document.body.dataset.loaded = "true";
    } catch (e) { status(e.message); }
  }

  /* The management view, loaded when its tab is open; body.dataset.mgmtLoaded says when the
     latest load finished (an older one finishing late does not claim it). */
  async function loadManagement() {
    const run = ++state.mgmtRun;
    document.body.dataset.mgmtLoaded = "false";
    status("loading management…");
    try {
      await state.ready;
      const enterprises = [...$("#enterprise").options].map(o => o.value).filter(Boolean);
      await window.NengtanManagement.load({
        token: state.token, enterprise: state.enterprise, enterprises,
        unauthorized: () => { sessionStorage.removeItem("nt-token"); showLogin(); } });
      if (run !== state.mgmtRun) return;
      status(`updated ${new Date().toLocaleTimeString()}`);
      document.body.dataset.mgmtLoaded = "true";
    } catch (e) { status(e.message); }
  }

  function showView(view) {
    state.view = view;
    for (const b of document.querySelectorAll("#tabs button")) b.setAttribute("aria-selected", String(b.dataset.view === view));
    for (const s of document.querySelectorAll("main section[data-view]")) s.hidden = s.dataset.view !== view;
    $("#period").disabled = view !== "ops";
    if (view === "mgmt") loadManagement();
  }

  function showLogin() { $("#main").hidden = true; $("#login").hidden = false; }

  function start() {
    $("#login").hidden = true; $("#main").hidden = false;
    state.ready = refresh();
    if (state.view === "mgmt") loadManagement();
    clearInterval(state.timer);
    state.timer = setInterval(() => loadAlerts().catch(e => status(e.message)), 10000);
  }

  $("#login").addEventListener("submit", (ev) => {
    ev.preventDefault(); state.token = $("#token-input").value.trim();
    sessionStorage.setItem("nt-token", state.token); start();
  });
  $("#enterprise").addEventListener("change", (ev) => {
    state.enterprise = ev.target.value; state.ready = refresh();
    if (state.view === "mgmt") loadManagement();
  });
  for (const b of document.querySelectorAll("#tabs button")) b.addEventListener("click", () => showView(b.dataset.view));
  for (const id of ["#mgmt-month", "#mgmt-asof"]) $(id).addEventListener("change", () => { if ($(id).value) loadManagement(); });
  $("#period").addEventListener("change", (ev) => { state.hours = Number(ev.target.value); refresh(); });

  state.token = takeToken();
  if (state.token) start(); else showLogin();
})();
