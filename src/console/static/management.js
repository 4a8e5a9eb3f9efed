/* The dashboard's management view: budgets with their forecast, efficiency benchmarking, the
   carbon-asset ledger and compliance position, product footprints with supply-chain coverage,
   and Tapio decoupling, all from /api/v1/management/* with the user's token.

   Scoping is the API's: the view only draws what the token's answers contain. An answer that is
   not 200 (no management inputs stored: 404; outside the scope: 403; a figure that cannot be
   computed: 422) becomes a sentence in the panel, never an exception, so one missing figure
   does not blank the others. */
"use strict";
(function () {
  const $ = (sel) => document.querySelector(sel);
  const NS = "http://www.w3.org/2000/svg";
  const UNIT = { energy_tce: "tce", co2e_t: "t CO₂e" };

  /* fixed decimals; a value that rounds to zero shows no minus sign */
  const fmt = (x, d = 2) => (x === null || x === undefined) ? "–" : Number(x).toFixed(d).replace(/^-(0\.?0*)$/, "$1");
  const pct = (x) => (x === null || x === undefined) ? "–" : `${(100 * x).toFixed(1)} %`;
  const label = (s) => s ? String(s).replace(/_/g, " ") : "–";
  function cell(tr, text, cls) { const td = document.createElement("td"); td.textContent = text; if (cls) td.className = cls; tr.appendChild(td); return td; }
  function clear(el) { while (el.firstChild) el.removeChild(el.firstChild); }
  function emptyRow(tbody, text) {
    const tr = document.createElement("tr"); tr.className = "empty";
    const td = cell(tr, text); td.colSpan = tbody.parentElement.querySelectorAll("thead th").length;
    tbody.appendChild(tr);
  }

  /* GET one management route; never throws for an HTTP answer (401 goes back to the login). */
  async function get(ctx, path, params) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(params || {})) if (v !== null && v !== undefined && v !== "") q.set(k, v);
    let resp;
    try {
      resp = await fetch(`/api/v1/management/${path}${q.toString() ? "?" + q : ""}`,
                         { headers: { Authorization: `Bearer ${ctx.token}` } });
    } catch (e) { return { ok: false, status: 0, why: `no answer from the console (${e.message})` }; }
    if (resp.status === 401) { ctx.unauthorized(); return { ok: false, status: 401, why: "token refused" }; }
    let body = null;
    try { body = await resp.json(); } catch (e) { body = null; }
    if (resp.ok) return { ok: true, status: resp.status, data: body };
    const detail = body && body.detail ? (typeof body.detail === "string" ? body.detail : JSON.stringify(body.detail)) : "";
    const why = resp.status === 404 ? `no management data yet${detail ? ` (${detail})` : ""}`
      : resp.status === 403 ? "not in your token's scope"
      : `not available: ${detail || `HTTP ${resp.status}`}`;
    return { ok: false, status: resp.status, why };
  }

  /* Month arithmetic on "YYYY-MM" labels (UTC, like the API's periods). */
  function lastDay(month) { const [y, m] = month.split("-").map(Number); return new Date(Date.UTC(y, m, 0)).toISOString().slice(0, 10); }
  function yearBefore(month) { const [y, m] = month.split("-"); return `${Number(y) - 1}-${m}`; }

  /* The default month: the latest budget period (a month) the inputs hold that has begun,
     else the current month; the default as-of day: that month's last day, or today. */
  async function defaults(ctx) {
    const today = new Date().toISOString().slice(0, 10), now = today.slice(0, 7);
    let month = now;
    const inp = await get(ctx, "inputs");
    if (inp.ok && Array.isArray(inp.data.budgets)) {
      const months = inp.data.budgets.map(b => String(b.period)).filter(p => /^\d{4}-\d{2}$/.test(p) && p <= now).sort();
      if (months.length) month = months[months.length - 1];
    }
    const end = lastDay(month);
    return { month, asOf: end < today ? end : today };
  }

  const mine = (ctx, ent) => !ctx.enterprise || ent === ctx.enterprise;

  function drawBudgetChart(rows) {
    const svg = $("#budget-chart"); clear(svg);
    const W = 900, L = 250, R = 190, ROW = 34, TOP = 8;
    const H = TOP + Math.max(rows.length, 1) * ROW + 6;
    svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
    const add = (parent, n, attrs) => { const e = document.createElementNS(NS, n); for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v); parent.appendChild(e); return e; };
    if (!rows.length) { add(svg, "text", { x: W / 2, y: H / 2 + 4, "text-anchor": "middle" }).textContent = "no budget has begun by this day"; return; }
    rows.forEach((b, i) => {
      const y = TOP + i * ROW;
      const g = add(svg, "g", { class: `budget-row${b.over ? " over" : ""}`, "data-budget": b.budget_id,
        "data-effective": b.effective, "data-actual": b.actual_to_date, "data-forecast": b.forecast });
      const max = Math.max(b.effective, b.forecast, b.actual_to_date, 1e-9) * 1.05;
      const x = (v) => L + Math.max(v, 0) / max * (W - L - R);
      add(g, "text", { x: 0, y: y + 15 }).textContent = `${b.budget_id}`;
      add(g, "text", { x: 0, y: y + 27, class: "muted" }).textContent = `${b.scope} · ${b.period} · ${UNIT[b.metric] || b.metric}`;
      add(g, "rect", { x: L, y: y + 5, width: x(b.forecast) - L, height: 18, class: "bar-forecast" });
      add(g, "rect", { x: L, y: y + 9, width: x(b.actual_to_date) - L, height: 10, class: "bar-actual" });
      add(g, "line", { x1: x(b.effective), x2: x(b.effective), y1: y + 1, y2: y + 27, class: "bar-budget" });
      add(g, "text", { x: W - R + 8, y: y + 15, class: b.over ? "over" : "" }).textContent =
        `${fmt(b.forecast, 1)} / ${fmt(b.effective, 1)} ${UNIT[b.metric] || ""}`;
      add(g, "text", { x: W - R + 8, y: y + 27, class: "muted" }).textContent =
        b.over ? `over by ${fmt(b.overrun, 1)}` : `within by ${fmt(-b.overrun, 1)}`;
    });
  }

  async function loadBudgets(ctx, asOf) {
    const r = await get(ctx, "budgets", { as_of: asOf });
    const body = $("#budget-table tbody"); clear(body);
    if (!r.ok) { drawBudgetChart([]); emptyRow(body, r.why); return; }
    const rows = r.data.items.filter(b => mine(ctx, b.enterprise));
    drawBudgetChart(rows);
    for (const b of rows) {
      const tr = document.createElement("tr"); tr.dataset.budget = b.budget_id; if (b.over) tr.className = "over";
      cell(tr, b.budget_id); cell(tr, b.scope); cell(tr, b.period); cell(tr, UNIT[b.metric] || b.metric);
      cell(tr, fmt(b.effective, 3), "num effective"); cell(tr, fmt(b.actual_to_date, 3), "num actual");
      cell(tr, fmt(b.forecast, 3), "num forecast"); cell(tr, fmt(b.overrun, 3), "num overrun");
      cell(tr, [...new Set(b.months.map(m => m.intensity_basis))].join(", "));
      body.appendChild(tr);
    }
    if (!rows.length) emptyRow(body, "no budget has begun by this day");
  }

  async function loadBenchmark(ctx, month) {
    const r = await get(ctx, "benchmark", { period: month });
    const body = $("#benchmark-table tbody"), peers = $("#peers-table tbody"), eq = $("#equipment-table tbody");
    clear(body); clear(peers); clear(eq); $("#peers-box").hidden = true;
    if (!r.ok) { emptyRow(body, r.why); emptyRow(eq, r.why); return []; }
    const products = r.data.products.filter(p => mine(ctx, p.enterprise));
    for (const p of products) {
      const tr = document.createElement("tr"); tr.dataset.enterprise = p.enterprise; tr.dataset.product = p.product;
      const unit = p.level ? p.level.unit : `kgce/${p.output_uom}`;
      cell(tr, p.enterprise); cell(tr, p.product);
      cell(tr, `${fmt(p.output, 1)} ${p.output_uom} (${label(p.output_basis)})`, "num");
      cell(tr, `${fmt(p.kgce_per_unit, 2)} ${unit}`, "num intensity");
      cell(tr, p.level ? fmt(p.level.benchmark, 1) : "–", "num");
      cell(tr, p.level ? fmt(p.level.baseline, 1) : "–", "num");
      cell(tr, p.grade ? label(p.grade) : "no level", `grade ${p.grade ? "grade-" + p.grade : "muted"}`);
      cell(tr, fmt(p.gap_to_benchmark, 2), "num");
      body.appendChild(tr);
    }
    if (!products.length) emptyRow(body, "no products in your scope");
    if (r.data.peers) {
      $("#peers-box").hidden = false;
      for (const p of [...r.data.peers].sort((a, b) => (a.rank ?? 1e9) - (b.rank ?? 1e9))) {
        const tr = document.createElement("tr"); if (ctx.enterprise === p.enterprise) tr.className = "selected";
        cell(tr, p.rank ?? "–"); cell(tr, p.enterprise); cell(tr, p.industry);
        cell(tr, fmt(p.tce_per_1e4_cny, 4), "num"); cell(tr, fmt(p.co2e_t_per_1e4_cny, 4), "num"); cell(tr, fmt(p.vs_park, 2), "num");
        peers.appendChild(tr);
      }
    }
    const units = r.data.equipment.filter(e => mine(ctx, e.enterprise));
    for (const e of units) {
      const tr = document.createElement("tr");
      cell(tr, e.unit); cell(tr, label(e.equipment_class)); cell(tr, fmt(e.energy_kgce, 0), "num");
      cell(tr, pct(e.share_of_enterprise), "num");
      cell(tr, e.kgce_per_output === null ? "–" : `${fmt(e.kgce_per_output, 2)} kgce/${e.output_uom}`, "num");
      cell(tr, e.rank_in_class ?? "–", "num");
      eq.appendChild(tr);
    }
    if (!units.length) emptyRow(eq, "no metered equipment in your scope");
    return products;
  }

  function figures(box, rows) {
    const dl = document.createElement("dl"); dl.className = "figures";
    for (const [name, value, key] of rows) {
      const dt = document.createElement("dt"); dt.textContent = name;
      const dd = document.createElement("dd"); dd.textContent = value; if (key) dd.dataset.key = key;
      dl.append(dt, dd);
    }
    box.appendChild(dl);
  }

  async function loadAssets(ctx, enterprises, year, asOf) {
    const list = $("#assets-list"); clear(list);
    for (const ent of enterprises) {
      const box = document.createElement("div"); box.className = "asset-box"; box.dataset.enterprise = ent;
      const h = document.createElement("h3"); h.textContent = `${ent} — compliance year ${year}, as of ${asOf}`; box.appendChild(h);
      list.appendChild(box);
      const r = await get(ctx, `assets/${encodeURIComponent(ent)}`, { period: year, as_of: asOf });
      if (!r.ok) { const p = document.createElement("p"); p.className = "empty"; p.textContent = r.why; box.appendChild(p); continue; }
      const a = r.data, hd = a.holdings;
      const pos = document.createElement("p"); pos.className = `position ${a.short ? "short" : "covered"}`;
      pos.textContent = a.short ? `short by ${fmt(a.gap_t, 1)} t CO₂e${a.gap_cost_cny !== null ? ` (≈ ${fmt(a.gap_cost_cny, 0)} CNY at the allowance price)` : ""}`
        : `covered with ${fmt(-a.gap_t, 1)} t CO₂e to spare`;
      box.appendChild(pos);
      figures(box, [
        ["allocated", `${fmt(hd.allocated_t, 1)} t (${label(hd.allocation_basis)})`, "allocated_t"],
        ["allowances held", `${fmt(hd.allowances_t, 1)} t`, "allowances_t"],
        ["bought / sold / surrendered", `${fmt(hd.bought_t, 1)} / ${fmt(hd.sold_t, 1)} / ${fmt(hd.surrendered_t, 1)} t`],
        ["CCER held", `${fmt(hd.ccer_t, 1)} t`, "ccer_t"],
        ["emissions to date", `${fmt(a.emissions_to_date_t, 1)} t`, "emissions_to_date_t"],
        ["obligation forecast", `${fmt(a.obligation_forecast_t, 1)} t`, "obligation_forecast_t"],
        ["CCER usable (cap)", `${fmt(a.ccer_usable_t, 1)} t (${fmt(a.ccer_cap_t, 1)} t)`, "ccer_usable_t"],
        ["gap", `${fmt(a.gap_t, 1)} t`, "gap_t"],
        ["holdings value", a.value_cny === null ? "no prices" : `${fmt(a.value_cny, 0)} CNY`, "value_cny"],
      ]);
      const t = document.createElement("table"); t.className = "ledger";
      t.innerHTML = "<thead><tr><th>day</th><th>entry</th><th>kind</th><th class=num>t</th><th class=num>CNY/t</th><th>counterparty</th><th>note</th></tr></thead><tbody></tbody>";
      const tb = t.querySelector("tbody");
      for (const e of a.ledger) {
        const tr = document.createElement("tr"); tr.dataset.entry = e.id;
        cell(tr, e.day); cell(tr, e.id); cell(tr, label(e.kind)); cell(tr, fmt(e.quantity_t, 1), "num quantity");
        cell(tr, fmt(e.price_cny_per_t, 2), "num"); cell(tr, e.counterparty || "–"); cell(tr, e.note || "");
        tb.appendChild(tr);
      }
      if (!a.ledger.length) emptyRow(tb, "no ledger entries for this compliance year");
      box.appendChild(t);
    }
    if (!enterprises.length) { const p = document.createElement("p"); p.className = "empty"; p.textContent = "no enterprise in your scope"; list.appendChild(p); }
  }

  async function loadFootprints(ctx, products, month) {
    const body = $("#footprint-table tbody"); clear(body);
    for (const p of products) {
      const tr = document.createElement("tr"); tr.dataset.enterprise = p.enterprise; tr.dataset.product = p.product;
      cell(tr, p.enterprise); cell(tr, p.product);
      body.appendChild(tr);
      const r = await get(ctx, `footprints/${encodeURIComponent(p.enterprise)}`, { product: p.product, period: month });
      if (!r.ok) { const td = cell(tr, r.why, "empty"); td.colSpan = 6; continue; }
      const f = r.data, k = f.by_kind || {};
      const mats = f.lines.filter(l => l.kind === "material");
      const fromSupplier = mats.filter(l => String(l.basis).startsWith("supplier:"));
      cell(tr, f.declared_unit); cell(tr, fmt(f.kgco2e, 2), "num kgco2e"); cell(tr, fmt(f.grid_only_kgco2e, 2), "num");
      cell(tr, fmt(f.green_delta_kgco2e, 2), "num");
      cell(tr, `${fmt(k.material || 0, 1)} / ${fmt(k.energy || 0, 1)} / ${fmt(k.process || 0, 1)}`, "num");
      cell(tr, mats.length ? `${fromSupplier.length} of ${mats.length}${fromSupplier.length ? " (" + fromSupplier.map(l => l.item).join(", ") + ")" : ""}` : "no materials", "coverage");
    }
    if (!products.length) emptyRow(body, "no products in your scope");
  }

  async function loadSupply(ctx) {
    const body = $("#supply-table tbody"); clear(body);
    const r = await get(ctx, "supply/evidence");
    if (!r.ok) { emptyRow(body, r.why); return; }
    const by = new Map();
    for (const e of r.data.items) {
      const key = e.enterprise || "(none given)";
      if (!mine(ctx, key)) continue;
      const s = by.get(key) || { ok: 0, bad: 0, materials: new Set(), last: "" };
      if (e.accepted) { s.ok += 1; if (e.record && e.record.material) s.materials.add(e.record.material); } else s.bad += 1;
      if (String(e.received_at) > s.last) s.last = String(e.received_at);
      by.set(key, s);
    }
    for (const [ent, s] of [...by.entries()].sort()) {
      const tr = document.createElement("tr");
      cell(tr, ent); cell(tr, s.ok, "num"); cell(tr, s.bad, "num"); cell(tr, [...s.materials].sort().join(", ") || "–");
      cell(tr, s.last.replace("T", " ").slice(0, 16));
      body.appendChild(tr);
    }
    if (!by.size) emptyRow(body, "no supplier submissions in your scope");
  }

  async function loadDecoupling(ctx, month) {
    const p0 = yearBefore(month);
    const r = await get(ctx, "analysis", { periods: `${p0},${month}` });
    const body = $("#decoupling-table tbody"), recs = $("#recommendations"); clear(body); clear(recs);
    if (!r.ok) { emptyRow(body, r.why); return; }
    const rel = (a, b) => (a && b !== null && b !== undefined) ? pct((b - a) / a) : "–";
    const rows = r.data.decoupling.filter(d => d.kind === "industry" ? !ctx.enterprise : mine(ctx, d.scope));
    for (const d of rows) {
      const tr = document.createElement("tr"); tr.dataset.scope = `${d.kind}:${d.scope}`;
      cell(tr, d.kind === "industry" ? `industry ${d.scope}` : d.scope); cell(tr, `${d.p0} → ${d.p1}`);
      cell(tr, rel(d.g0, d.g1), "num"); cell(tr, rel(d.c0, d.c1), "num"); cell(tr, fmt(d.elasticity, 3), "num elasticity");
      cell(tr, label(d.tapio_state), `tapio tapio-${d.tapio_state}`); cell(tr, d.synergy_state ? label(d.synergy_state) : "–");
      body.appendChild(tr);
    }
    if (!rows.length) emptyRow(body, `no output value for both ${p0} and ${month} in your scope`);
    const shown = r.data.recommendations.filter(x => !ctx.enterprise || x.scope === ctx.enterprise || x.scope.startsWith(`${ctx.enterprise}.`) || x.scope === `enterprise:${ctx.enterprise}`);
    for (const x of shown) {
      const li = document.createElement("li"); li.className = `prio-${x.priority}`; li.textContent = x.message; recs.appendChild(li);
    }
    if (!shown.length) { const li = document.createElement("li"); li.className = "empty"; li.textContent = "none"; recs.appendChild(li); }
  }

  /* ctx: { token, enterprise ("" = every enterprise the token sees), enterprises: [ids],
     unauthorized() }. Fills the month/as-of controls on the first call. */
  async function load(ctx) {
    const month = $("#mgmt-month"), asOf = $("#mgmt-asof");
    if (!month.value || !asOf.value) { const d = await defaults(ctx); month.value = month.value || d.month; asOf.value = asOf.value || d.asOf; }
    const m = month.value, day = asOf.value, year = m.slice(0, 4);
    for (const el of document.querySelectorAll("[data-view=mgmt] small.period")) el.textContent = `(${m})`;
    const ents = ctx.enterprise ? [ctx.enterprise] : ctx.enterprises;
    const [products] = await Promise.all([loadBenchmark(ctx, m), loadBudgets(ctx, day), loadDecoupling(ctx, m), loadSupply(ctx)]);
    await Promise.all([loadAssets(ctx, ents, year, day), loadFootprints(ctx, products, m)]);
  }

  window.NengtanManagement = { load };
})();
