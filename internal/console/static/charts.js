// Hand-written inline SVG charts: no library, no network. Every chart is an <svg role="img"> named by
// its <title> and summarised by its <desc>, each bar carries its own <title> (a tooltip), and a data
// table with the same numbers follows for screen readers and for copying.

const svgNS = "http://www.w3.org/2000/svg";

function svg(tag, attrs = {}, ...children) {
  const e = document.createElementNS(svgNS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  for (const c of children) e.append(c);
  return e;
}

function html(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  for (const c of children) e.append(c);
  return e;
}

// niceMax rounds a maximum up to 1, 2, 2.5 or 5 times a power of ten, so axis labels stay readable.
export function niceMax(v) {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) {
    if (v <= m * p) return m * p;
  }
  return 10 * p;
}

// barChart draws one bar per point. Options:
//   id: unique prefix for element ids; title: the chart's name; points: [{at: Date, value: number|null}]
//   format(value): full value text; axisFormat(value): short axis text; label(at): bucket name;
//   tick(at, i): short x-axis text, or "" to leave a bucket unlabelled; total: whether adding the
//   values up means something (a sum does, an average does not).
export function barChart({ id, title, points, format, axisFormat = format, label, tick, total: showTotal = true }) {
  // Drawn at about the size it is shown (a third of the page), so 11px text stays 11px.
  const W = 340, H = 170, left = 52, right = 6, top = 8, bottom = 20;
  const plotW = W - left - right, plotH = H - top - bottom;
  const values = points.map((p) => p.value).filter((v) => typeof v === "number");
  const max = values.length ? Math.max(...values) : 0;
  const yMax = niceMax(max);
  const total = values.reduce((s, v) => s + v, 0);
  const peak = points.find((p) => p.value === max && values.length);

  const desc = values.length === 0
    ? `No data for ${points.length} periods.`
    : `${points.length} periods from ${label(points[0].at)} to ${label(points[points.length - 1].at)}. ` +
      `Highest: ${format(max)} (${label(peak.at)}). Data for ${values.length} of ${points.length} periods.`;
  const chart = svg("svg", {
    viewBox: `0 0 ${W} ${H}`, role: "img", class: "chart", "aria-labelledby": `${id}-title ${id}-desc`,
    preserveAspectRatio: "xMidYMid meet",
  }, svg("title", { id: `${id}-title` }, title), svg("desc", { id: `${id}-desc` }, desc));

  for (const f of [0, 0.5, 1]) {
    const y = top + plotH - f * plotH;
    chart.append(
      svg("line", { x1: left, x2: W - right, y1: y, y2: y, class: f === 0 ? "axis" : "grid" }),
      svg("text", { x: left - 6, y: y + 4, "text-anchor": "end", class: "tick" }, axisFormat(f * yMax)),
    );
  }
  const slot = plotW / Math.max(points.length, 1);
  const barW = Math.max(1, slot * 0.72);
  points.forEach((p, i) => {
    const x = left + i * slot + (slot - barW) / 2;
    if (typeof p.value === "number") {
      const h = (p.value / yMax) * plotH;
      // A non-zero value gets at least one unit of height so it is never mistaken for no traffic.
      const hh = p.value > 0 ? Math.max(h, 1) : 0;
      chart.append(svg("rect", { x: x.toFixed(2), y: (top + plotH - hh).toFixed(2), width: barW.toFixed(2), height: hh.toFixed(2), class: "bar" },
        svg("title", {}, `${label(p.at)}: ${format(p.value)}`)));
    }
    const t = tick(p.at, i);
    if (t) {
      chart.append(svg("text", { x: (left + i * slot + slot / 2).toFixed(2), y: H - 5, "text-anchor": "middle", class: "tick" }, t));
    }
  });

  const rows = points.map((p) => html("tr", {}, html("th", { scope: "row" }, label(p.at)),
    html("td", {}, typeof p.value === "number" ? format(p.value) : "no data")));
  const table = html("table", { class: "data" },
    html("caption", {}, title),
    html("thead", {}, html("tr", {}, html("th", { scope: "col" }, "Period"), html("th", { scope: "col" }, "Value"))),
    html("tbody", {}, ...rows));
  const summary = values.length && showTotal ? ` Total ${format(total)}.` : "";
  return html("figure", { class: "chart-figure", id },
    html("figcaption", {}, title),
    chart,
    html("p", { class: "chart-summary" }, desc + summary),
    html("details", {}, html("summary", {}, `Data table: ${title}`), table));
}

// usageBar draws transfer used against the quota. Past the quota the bar is full and its overage
// share is drawn in the warning colour, so the excess is visible without reading numbers.
export function usageBar({ used, quota, text }) {
  const W = 600, H = 28;
  const bar = svg("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", class: "usage-bar", "aria-label": text },
    svg("title", {}, text),
    svg("rect", { x: 0.5, y: 0.5, width: W - 1, height: H - 1, rx: 4, class: "track" }));
  if (quota > 0 && used > 0) {
    const over = used > quota;
    const inQuota = over ? quota / used : used / quota;
    const w = Math.max(2, inQuota * (W - 2));
    bar.append(svg("rect", { x: 1, y: 1, width: w.toFixed(2), height: H - 2, rx: 3, class: "used" }));
    if (over) {
      bar.append(svg("rect", { x: (1 + w).toFixed(2), y: 1, width: (W - 2 - w).toFixed(2), height: H - 2, rx: 3, class: "overage" }),
        svg("line", { x1: (1 + w).toFixed(2), x2: (1 + w).toFixed(2), y1: 0, y2: H, class: "quota-mark" }));
    }
  }
  return bar;
}
