/* A small Sankey layout drawn in SVG (no library): columns by node kind
   (source → conversion → distribution → end use / loss), node heights proportional to
   throughput, links as cubic Bézier bands. */
"use strict";
(function (global) {
  const COLUMNS = { source: 0, conversion: 1, distribution: 2, end_use: 3, loss: 3 };
  const COLORS = { source: "#1f6f5c", conversion: "#8e5ea2", distribution: "#3e7cb1",
                   end_use: "#6b7385", loss: "#b3261e" };
  const NS = "http://www.w3.org/2000/svg";

  function el(name, attrs, parent) {
    const e = document.createElementNS(NS, name);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
    if (parent) parent.appendChild(e);
    return e;
  }

  function draw(svg, data, unit) {
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    const width = 900, height = 420, nodeW = 14, pad = 12, labelW = 190;
    if (!data.links.length) {
      const t = el("text", { x: width / 2, y: height / 2, "text-anchor": "middle" }, svg);
      t.textContent = "no energy flow in this period";
      return;
    }
    const nodes = new Map(data.nodes.map(n => [n.id, { ...n, in: 0, out: 0, inY: 0, outY: 0 }]));
    for (const l of data.links) { nodes.get(l.source).out += l.tce; nodes.get(l.target).in += l.tce; }
    const cols = [[], [], [], []];
    for (const n of nodes.values()) { n.value = Math.max(n.in, n.out); cols[COLUMNS[n.kind] ?? 3].push(n); }
    const used = cols.filter(c => c.length);
    const maxTotal = Math.max(...used.map(c => c.reduce((s, n) => s + n.value, 0)));
    const maxCount = Math.max(...used.map(c => c.length));
    const scale = (height - pad * (maxCount + 1)) / (maxTotal || 1);
    const step = (width - labelW * 2 - nodeW) / Math.max(1, used.length - 1);
    used.forEach((col, i) => {
      let y = pad;
      col.sort((a, b) => b.value - a.value);
      for (const n of col) {
        n.x = labelW + i * step; n.y = y; n.h = Math.max(2, n.value * scale);
        n.inY = n.y; n.outY = n.y; y += n.h + pad;
      }
    });
    const gLinks = el("g", {}, svg), gNodes = el("g", {}, svg);
    for (const l of [...data.links].sort((a, b) => b.tce - a.tce)) {
      const s = nodes.get(l.source), t = nodes.get(l.target), w = Math.max(1, l.tce * scale);
      const x0 = s.x + nodeW, x1 = t.x, y0 = s.outY + w / 2, y1 = t.inY + w / 2, mx = (x0 + x1) / 2;
      s.outY += w; t.inY += w;
      const p = el("path", { class: "link", d: `M${x0},${y0} C${mx},${y0} ${mx},${y1} ${x1},${y1}`,
                             stroke: COLORS[s.kind] || "#888", "stroke-width": w }, gLinks);
      el("title", {}, p).textContent = `${s.name} → ${t.name}: ${l.tce.toFixed(3)} ${unit}`;
    }
    for (const n of nodes.values()) {
      const g = el("g", { class: "node", "data-kind": n.kind }, gNodes);
      el("rect", { x: n.x, y: n.y, width: nodeW, height: n.h, fill: COLORS[n.kind] || "#888" }, g);
      const left = COLUMNS[n.kind] === 0;
      const t = el("text", { x: left ? n.x - 4 : n.x + nodeW + 4, y: n.y + n.h / 2 + 4,
                             "text-anchor": left ? "end" : "start" }, g);
      t.textContent = `${n.name} ${n.value.toFixed(2)}`;
    }
  }

  global.NengtanSankey = { draw };
})(window);
