// The console page: sign-in, the account's distributions, one distribution's usage, cost, metrics
// and actions. Every figure comes from a signed Lightsail API call (api.js); every action is an API
// call, so the server's rules (one bundle change per cycle, validation) apply as for any SDK.

import { Client, ApiError, isNotImplemented, region } from "./api.js";
import { barChart, usageBar } from "./charts.js";
import { httpsURL, hostsOf, recordsOf, relevantCertificates } from "./https.js";
import {
  bytesPerGB, cycleStart, nextCycleStart, epochSeconds, parseTimestamp, cycleWindow, lastDayWindow,
  series, projectedUsage, totalUsageCost, transferOut, formatBytes, formatCount, formatCompact, formatPercent, formatMoney,
  formatUTC, formatUTCDay,
} from "./model.js";

// sessionStorage, not localStorage or a cookie: see the package documentation (console.go).
const storageKey = "sailcdn.console.credentials";

const state = {
  client: null,
  bundles: [],
  distributions: [],
  selected: null,
  range: "cycle",
  usage: null, // { name, used: bytes } of the selected distribution, once loaded
  bundleFrom: new Map(), // name -> Date a bundle change becomes possible again, from its operations
  confirmBundle: null, // bundle id awaiting confirmation
  reset: null, // the latest cache reset of the selected distribution
  busy: false,
  seq: 0, // bumps on every selection so late answers for another distribution are dropped
  pollTimer: 0,
  httpsPort: null, // the edge's TLS port, from settings.json (null: unknown)
  certificates: null, // the account's certificates (with details), once loaded
};

const $ = (id) => document.getElementById(id);

// h builds an element: attributes from props (on* names become listeners), children appended as
// nodes or text. Data from the API only ever becomes text nodes or attribute values, never markup.
function h(tag, props = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v === false || v === null || v === undefined) continue;
    if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat()) {
    if (c !== null && c !== undefined && c !== false) e.append(c);
  }
  return e;
}

function announce(text) {
  $("status").textContent = text;
}

function showError(context, err) {
  const what = err instanceof ApiError ? `${err.type}: ${err.message}` : String(err && err.message ? err.message : err);
  $("alert").textContent = `${context} failed. ${what}`;
}

function clearError() {
  $("alert").textContent = "";
}

// signedOut rejects the calls and drops the answers of work begun before a sign-out.
const signedOut = new ApiError(0, "SignedOut", "", "Signed out.");

function call(op, input) {
  return state.client ? state.client.call(op, input) : Promise.reject(signedOut);
}

// update replaces a region's content only when what it shows changed (key): rebuilding identical
// content on every refresh would swap buttons under the user's pointer and restart screen readers.
// When it does rebuild, the focus goes back to the element (by id) that had it, so a keyboard user
// keeps their place.
const shown = new WeakMap();

function update(el, key, build) {
  if (!el || shown.get(el) === key) return;
  shown.set(el, key);
  const id = document.activeElement && document.activeElement.id;
  el.replaceChildren(...build());
  if (id && document.activeElement !== $(id) && $(id)) $(id).focus();
}

function bundleOf(id) {
  return state.bundles.find((b) => b.bundleId === id);
}

function bundleLabel(id) {
  const b = bundleOf(id);
  return b ? `${b.name || b.bundleId}` : id;
}

// ---- sign-in ----

function storedCredentials() {
  try {
    const c = JSON.parse(sessionStorage.getItem(storageKey) || "null");
    return c && c.accessKeyId && c.secretAccessKey ? c : null;
  } catch {
    return null;
  }
}

function showSignIn() {
  $("sign-in").hidden = false;
  $("distributions").hidden = true;
  $("detail").hidden = true;
  $("account").hidden = true;
}

async function start(credentials) {
  state.client = new Client(credentials);
  // GetDistributionBundles proves the key (the server verifies the signature) and brings the catalog.
  const out = await call("GetDistributionBundles", {});
  state.bundles = out.bundles || [];
  await loadSettings();
  $("sign-in").hidden = true;
  $("account").hidden = false;
  $("account-key").textContent = credentials.accessKeyId;
  $("account-region").textContent = region;
  $("distributions").hidden = false;
  await loadDistributions();
}

async function onSignIn(ev) {
  ev.preventDefault();
  const accessKeyId = $("access-key-id").value.trim();
  const secretAccessKey = $("secret-access-key").value;
  if (!accessKeyId || !secretAccessKey) {
    $("alert").textContent = "Enter both the access key ID and the secret access key.";
    return;
  }
  $("sign-in-button").disabled = true;
  try {
    await start({ accessKeyId, secretAccessKey });
    sessionStorage.setItem(storageKey, JSON.stringify({ accessKeyId, secretAccessKey }));
    $("secret-access-key").value = "";
    clearError();
    announce("Signed in.");
    $("distributions-title").focus();
  } catch (err) {
    state.client = null;
    showSignIn();
    showError("Sign-in", err);
  } finally {
    $("sign-in-button").disabled = false;
  }
}

function signOut() {
  sessionStorage.removeItem(storageKey);
  clearTimeout(state.pollTimer);
  Object.assign(state, { client: null, bundles: [], distributions: [], selected: null, usage: null, confirmBundle: null, certificates: null });
  state.bundleFrom.clear();
  state.seq++;
  update($("distribution-table").tBodies[0], "", () => []);
  $("detail").replaceChildren();
  clearError();
  showSignIn();
  announce("Signed out.");
  $("access-key-id").focus();
}

// ---- list ----

async function loadDistributions() {
  const client = state.client;
  const list = [];
  let pageToken;
  do {
    const out = await call("GetDistributions", pageToken ? { pageToken } : {});
    list.push(...(out.distributions || []));
    pageToken = out.nextPageToken;
  } while (pageToken);
  if (state.client !== client) return; // signed out (or in again) meanwhile
  list.sort((a, b) => a.name.localeCompare(b.name));
  state.distributions = list;
  const before = state.selected;
  if (!list.some((d) => d.name === state.selected)) state.selected = list.length ? list[0].name : null;
  renderList();
  if (state.selected !== before) {
    select(state.selected, false);
  } else if (state.selected) {
    renderFacts(current());
  }
  schedulePoll();
}

// Status is InProgress for a moment after every change; poll until everything is Deployed again.
function schedulePoll() {
  clearTimeout(state.pollTimer);
  if (state.distributions.some((d) => d.status !== "Deployed")) {
    state.pollTimer = setTimeout(() => loadDistributions().catch((err) => {
      if (err !== signedOut) showError("Refreshing the distributions", err);
    }), 2500);
  }
}

function current() {
  return state.distributions.find((d) => d.name === state.selected) || null;
}

function statusBadge(status) {
  return h("span", { class: `badge ${status === "Deployed" ? "ok" : "busy"}` }, status || "unknown");
}

function originText(d) {
  const o = d.origin || {};
  return `${o.name || "?"} (${o.resourceType || "origin"}, ${o.regionName || "?"})`;
}

function renderList() {
  const key = JSON.stringify([state.selected, state.bundles, state.distributions.map((d) =>
    [d.name, d.status, d.domainName, d.origin, d.bundleId, d.isEnabled])]);
  update($("distribution-table").tBodies[0], key, () => state.distributions.map((d) => h("tr", { class: d.name === state.selected ? "selected" : null },
    h("th", { scope: "row" }, h("button", {
      type: "button", class: "link", id: `pick-${d.name}`,
      "aria-current": d.name === state.selected ? "true" : null,
      onclick: () => select(d.name, true),
    }, d.name)),
    h("td", {}, statusBadge(d.status)),
    h("td", {}, h("code", {}, d.domainName || "")),
    h("td", {}, originText(d)),
    h("td", {}, bundleLabel(d.bundleId)),
    h("td", {}, d.isEnabled ? "Yes" : "No"),
  )));
  $("distribution-table").hidden = state.distributions.length === 0;
  $("no-distributions").hidden = state.distributions.length !== 0;
  if (state.distributions.length === 0) $("detail").hidden = true;
}

// ---- one distribution ----

function select(name, moveFocus) {
  state.selected = name;
  state.usage = null;
  state.reset = null;
  state.confirmBundle = null;
  state.seq++;
  renderList();
  const d = current();
  if (!d) {
    $("detail").hidden = true;
    return;
  }
  const detail = $("detail");
  detail.hidden = false;
  detail.replaceChildren(
    h("div", { class: "row" }, h("h2", { id: "detail-title", tabindex: "-1" }, d.name), h("span", { id: "detail-status" })),
    h("dl", { id: "facts", class: "facts" }),
    h("div", { class: "columns" },
      h("section", { "aria-labelledby": "usage-title", class: "card" },
        h("h3", { id: "usage-title" }, "Data transfer this billing cycle"), h("div", { id: "usage-body" }, "Loading…")),
      h("section", { "aria-labelledby": "cost-title", class: "card" },
        h("h3", { id: "cost-title" }, "Cost this billing cycle"), h("div", { id: "cost-body" }, "Loading…"))),
    h("section", { "aria-labelledby": "https-title", class: "card", id: "https-card" },
      h("h3", { id: "https-title" }, "HTTPS and certificates"), h("div", { id: "certificates" }, "Loading…")),
    h("section", { "aria-labelledby": "actions-title", class: "card" },
      h("h3", { id: "actions-title" }, "Actions"), h("div", { id: "actions" })),
    h("section", { "aria-labelledby": "metrics-title", class: "card" },
      h("div", { class: "row" }, h("h3", { id: "metrics-title" }, "Metrics"),
        h("label", { for: "range" }, "Period "),
        h("select", { id: "range", onchange: (ev) => { state.range = ev.target.value; loadCharts(current()); } },
          h("option", { value: "cycle", selected: state.range === "cycle" }, "This billing cycle, daily"),
          h("option", { value: "day", selected: state.range === "day" }, "Last 24 hours, hourly"))),
      h("div", { id: "charts", class: "charts" }, "Loading…")),
  );
  renderFacts(d);
  if (moveFocus) $("detail-title").focus();
  loadCertificates(d);
  loadUsage(d);
  loadCharts(d);
}

function renderFacts(d) {
  if (!d || !state.client || !$("facts")) return;
  update($("detail-status"), d.status, () => [statusBadge(d.status)]);
  const b = bundleOf(d.bundleId);
  const fact = (term, ...desc) => [h("dt", {}, term), h("dd", {}, ...desc)];
  update($("facts"), JSON.stringify([d, b]), () => [
    ...fact("Domain", h("code", {}, d.domainName || "")),
    ...fact("HTTPS", h("ul", { id: "https-urls", class: "plain" }, ...hostsOf(d).map((host) =>
      h("li", {}, h("a", { href: httpsURL(host, state.httpsPort), rel: "noopener noreferrer" }, httpsURL(host, state.httpsPort)))))),
    ...fact("Certificate", h("span", { id: "certificate-name" }, d.certificateName || "default (sailcdn's certificate for the distribution's own domain name)")),
    ...fact("Minimum TLS", d.viewerMinimumTlsProtocolVersion || ""),
    ...fact("Origin", originText(d)),
    ...fact("Origin DNS", h("code", {}, d.originPublicDNS || "")),
    ...fact("Bundle", b ? `${b.name || b.bundleId} — ${formatMoney(b.price || 0, "USD")}/month, ${b.transferPerMonthInGb} GB transfer` : d.bundleId),
    ...fact("Enabled", d.isEnabled ? "Yes" : "No"),
    ...fact("Created", d.createdAt ? formatUTC(parseTimestamp(d.createdAt)) : ""),
  ]);
  renderUsage(d);
  renderActions(d);
  renderCertificates(d);
}

function metric(d, metricName, statistic, unit, win) {
  // The end is rounded up to the next minute: it then covers the current minute, and it is always
  // after the start even in the first second of a cycle.
  const end = Math.floor(win.end.getTime() / 60000) * 60 + 60;
  return call("GetDistributionMetricData", {
    distributionName: d.name, metricName, statistics: [statistic], unit,
    startTime: epochSeconds(win.start), endTime: end, period: win.period,
  });
}

async function loadUsage(d) {
  if (!d || !state.client) return;
  const seq = state.seq;
  const now = state.client.serverNow();
  const start = cycleStart(now);
  // Cost so far runs to the end of the current hour: Lightsail plans bill whole hours. (At the very
  // first instant of a cycle that would be the start itself, an empty window the API refuses.)
  const hourEnd = Math.max(Math.ceil(now.getTime() / 3600000) * 3600, epochSeconds(start) + 3600);
  // The quota's figure is all data transfer out (to viewers and to the origin), which no metric
  // reports whole: BytesDownloaded and BytesUploaded are parts of it. The cost estimate so far
  // carries it (usage type DataTransferOut).
  const [soFar, month, reset, ops] = await Promise.allSettled([
    call("GetCostEstimate", { resourceName: d.name, startTime: epochSeconds(start), endTime: hourEnd }),
    call("GetCostEstimate", { resourceName: d.name, startTime: epochSeconds(start), endTime: epochSeconds(nextCycleStart(now)) }),
    call("GetDistributionLatestCacheReset", { distributionName: d.name }),
    d.ableToUpdateBundle ? Promise.resolve(null) : operationsFor(d.name),
  ]);
  if (seq !== state.seq) return;

  const used = soFar.status === "fulfilled" ? transferOut(soFar.value) : null;
  if (used !== null) {
    state.usage = { name: d.name, used };
  } else {
    state.usage = { name: d.name, error: soFar.status === "rejected" ? soFar.reason : { type: "", message: "the cost estimate reports no DataTransferOut." } };
  }
  if (ops.status === "fulfilled" && ops.value) noteBundleChange(d.name, ops.value);
  state.reset = reset.status === "fulfilled" ? reset.value : null;
  renderCost(soFar, month, now);
  renderFacts(current());
}

// noteBundleChange records when the bundle can be changed again: the cycle after the one of the last
// UpdateDistributionBundle, stamped by the server's clock. This is exact even when the server runs on
// a moved clock (sailcdn --dev), where the Date header is wall time.
function noteBundleChange(name, operations) {
  let last = null;
  let newest = null; // the newest operation of any kind: a lower bound of the server's "now"
  for (const op of operations) {
    const t = parseTimestamp(op.createdAt);
    if (!t) continue;
    if (!newest || t > newest) newest = t;
    if (op.operationType === "UpdateDistributionBundle" && (!last || t > last)) last = t;
  }
  // A change from an earlier cycle than the server's present cannot be the one that blocks (the list
  // was cut short): then the Date-header estimate stands.
  if (last && nextCycleStart(last) > newest) state.bundleFrom.set(name, nextCycleStart(last));
  else state.bundleFrom.delete(name);
}

// operationsFor lists a resource's operations, oldest first, following the pages (bounded: the
// latest bundle change is what is wanted, and a resource with thousands of operations is rare).
async function operationsFor(name) {
  const all = [];
  let pageToken;
  for (let page = 0; page < 25; page++) {
    const out = await call("GetOperationsForResource", pageToken ? { resourceName: name, pageToken } : { resourceName: name });
    all.push(...(out.operations || []));
    pageToken = out.nextPageToken;
    if (!pageToken) break;
  }
  return all;
}

function renderUsage(d) {
  const body = $("usage-body");
  if (!body || !state.usage || state.usage.name !== d.name) return;
  const err = state.usage.error;
  if (err) {
    update(body, `error ${err.type} ${err.message}`, () => [metricError(err, "Transfer usage", "GetCostEstimate")]);
    return;
  }
  const now = state.client.serverNow();
  const used = state.usage.used;
  const b = bundleOf(d.bundleId);
  const quotaGB = b ? b.transferPerMonthInGb : 0;
  const quota = quotaGB * bytesPerGB;
  const pct = quota > 0 ? (used / quota) * 100 : 0;
  const text = `${formatBytes(used)} of ${quotaGB} GB used (${formatPercent(pct)})`;
  const end = nextCycleStart(now);
  const projected = projectedUsage(used, now);
  const lastDay = new Date(end.getTime() - 86400000);
  const parts = [
    h("p", { class: "figure", id: "usage-text" }, text),
    usageBar({ used, quota, text }),
    h("p", { class: "note" }, `Cycle ${formatUTCDay(cycleStart(now))} to ${formatUTCDay(lastDay)}; the quota renews ${formatUTC(end)}.`),
  ];
  if (used > quota && quota > 0) {
    parts.push(h("p", { class: "warning", id: "overage-warning" },
      h("strong", {}, "Over quota: "),
      `${formatBytes(used - quota)} beyond the ${quotaGB} GB included in the ${bundleLabel(d.bundleId)} bundle. ` +
      "Transfer above the quota is charged per GB as overage."));
  } else if (used > 0) {
    const pace = `At this pace the cycle ends near ${formatBytes(projected)}`;
    parts.push(projected > quota
      ? h("p", { class: "caution" }, `${pace}, above the quota: consider a larger bundle before usage exceeds it.`)
      : h("p", { class: "note" }, `${pace}.`));
  }
  update(body, JSON.stringify([used, d.bundleId, quotaGB, formatUTCDay(now)]), () => parts);
}

function renderCost(soFar, month, now) {
  const body = $("cost-body");
  if (!body) return;
  const monthName = now.toLocaleString("en-US", { month: "long", year: "numeric", timeZone: "UTC" });
  if ([soFar, month].every((r) => r.status === "rejected" && isNotImplemented(r.reason))) {
    body.replaceChildren(h("p", { class: "note", id: "cost-unavailable" },
      "Cost estimates are not available from this server (GetCostEstimate is not implemented)."));
    return;
  }
  const line = (label, r) => {
    if (r.status === "rejected") {
      const why = isNotImplemented(r.reason) ? "not available" : `not available (${r.reason.type}: ${r.reason.message})`;
      return [h("dt", {}, label), h("dd", {}, why)];
    }
    const { total, currency } = totalUsageCost(r.value);
    return [h("dt", {}, label), h("dd", { class: "figure" }, formatMoney(total, currency))];
  };
  body.replaceChildren(h("dl", { class: "facts", id: "cost" },
    ...line("So far", soFar),
    ...line(`Projected for ${monthName}`, month)),
  h("p", { class: "note" }, "The projection is the plan for the whole month plus the transfer charges incurred so far."));
}

function metricError(err, what, operation = "GetDistributionMetricData") {
  if (isNotImplemented(err)) {
    return h("p", { class: "note" }, `${what}: not available from this server (${operation} is not implemented).`);
  }
  return h("p", { class: "warning" }, `${what}: could not be loaded. ${err.type ? `${err.type}: ` : ""}${err.message}`);
}

async function loadCharts(d) {
  if (!d || !state.client) return;
  const seq = state.seq;
  const range = state.range;
  const now = state.client.serverNow();
  const win = range === "day" ? lastDayWindow(now) : cycleWindow(now);
  const results = await Promise.allSettled([
    metric(d, "BytesDownloaded", "Sum", "None", win),
    metric(d, "Requests", "Sum", "None", win),
    metric(d, "TotalErrorRate", "Average", "Percent", win),
  ]);
  if (seq !== state.seq || range !== state.range || !$("charts")) return;
  const daily = win.period === 86400;
  const label = daily ? formatUTCDay : formatUTC;
  const every = daily ? (win.count > 10 ? 5 : 1) : 4;
  const tick = (at, i) => {
    if (i % every !== 0) return "";
    return daily ? String(at.getUTCDate()) : `${String(at.getUTCHours()).padStart(2, "0")}:00`;
  };
  const span = daily ? "per day, UTC" : "per hour, UTC";
  const specs = [
    { id: "chart-transfer", title: `Downloaded by viewers (GET, HEAD, OPTIONS) ${span}`, stat: "sum", missing: 0, format: formatBytes },
    { id: "chart-requests", title: `Requests ${span}`, stat: "sum", missing: 0, format: formatCount, axisFormat: formatCompact },
    { id: "chart-errors", title: `Error rate (4xx and 5xx) ${span}`, stat: "average", missing: null, format: formatPercent, axisFormat: (v) => `${+v.toFixed(2)}%`, total: false },
  ];
  $("charts").replaceChildren(...specs.map((s, i) => {
    const r = results[i];
    if (r.status === "rejected") return h("div", { class: "chart-figure", id: s.id }, h("p", {}, s.title), metricError(r.reason, s.title));
    return barChart({
      id: s.id, title: s.title, points: series(r.value.metricData, s.stat, win, s.missing),
      format: s.format, axisFormat: s.axisFormat, label, tick, total: s.total,
    });
  }));
}

// ---- actions ----

function renderActions(d) {
  const box = $("actions");
  if (!box || !d || !state.client) return;
  const able = d.ableToUpdateBundle !== false;
  const from = state.bundleFrom.get(d.name) || nextCycleStart(state.client.serverNow());
  const confirming = able && state.confirmBundle;
  const chosen = confirming || d.bundleId;
  const key = JSON.stringify([d.name, d.bundleId, able, d.isEnabled, state.busy, confirming, from.getTime(), resetText(), state.bundles]);
  update(box, key, () => [
    h("div", { class: "action" },
      h("h4", {}, "Bundle"),
      h("label", { for: "bundle-select" }, "New bundle"),
      h("div", { class: "row" },
        h("select", { id: "bundle-select", disabled: !able || state.busy, "aria-describedby": "bundle-note" }, ...bundleOptions(d, chosen)),
        h("button", { type: "button", id: "bundle-change", disabled: !able || state.busy || confirming, "aria-describedby": "bundle-note", onclick: askBundle }, "Change bundle")),
      h("p", { id: "bundle-note", class: able ? "note" : "caution", tabindex: "-1" }, able
        ? "A distribution's bundle can be changed once per billing cycle (calendar month, UTC)."
        : "The bundle was already changed in this billing cycle, and it can be changed only once per cycle. " +
          `It can be changed again from ${formatUTC(from)}.`),
      confirming ? h("div", { id: "bundle-confirm", class: "confirm", role: "group", "aria-labelledby": "bundle-confirm-text" },
        h("p", { id: "bundle-confirm-text" },
          `Change ${d.name} from ${bundleLabel(d.bundleId)} to ${bundleLabel(state.confirmBundle)}? ` +
          `No other change will be possible until ${formatUTC(from)}.`),
        h("button", { type: "button", id: "bundle-confirm-yes", disabled: state.busy, onclick: () => changeBundle(d, state.confirmBundle) }, "Confirm change"),
        h("button", { type: "button", id: "bundle-confirm-no", onclick: () => { state.confirmBundle = null; renderActions(d); $("bundle-change").focus(); } }, "Cancel")) : null),
    h("div", { class: "action" },
      h("h4", {}, "Availability"),
      h("p", {}, d.isEnabled ? "The distribution is enabled and serves viewers." : "The distribution is disabled and does not serve viewers."),
      h("button", { type: "button", id: "toggle-enabled", disabled: state.busy, onclick: () => setEnabled(d, !d.isEnabled) },
        d.isEnabled ? "Disable distribution" : "Enable distribution")),
    h("div", { class: "action" },
      h("h4", {}, "Cache"),
      h("p", { id: "cache-note" }, resetText()),
      h("button", { type: "button", id: "reset-cache", disabled: state.busy, onclick: () => resetCache(d) }, "Reset cache")),
  ]);
}

function bundleOptions(d, chosen) {
  return state.bundles
    .filter((b) => b.isActive !== false || b.bundleId === d.bundleId)
    .map((b) => h("option", { value: b.bundleId, selected: b.bundleId === chosen },
      `${b.name || b.bundleId}: ${formatMoney(b.price || 0, "USD")}/mo, ${b.transferPerMonthInGb} GB` +
      (b.bundleId === d.bundleId ? " (current)" : "") + (b.isActive === false ? " (no longer offered)" : "")));
}

function resetText() {
  const r = state.reset;
  if (!r || !r.createTime) return "The cache has not been reset.";
  return `Latest reset: ${formatUTC(parseTimestamp(r.createTime))} (${r.status || "unknown"}).`;
}

function askBundle() {
  const d = current();
  const chosen = $("bundle-select").value;
  if (chosen === d.bundleId) {
    $("bundle-note").textContent = `${bundleLabel(chosen)} is already this distribution's bundle: choose another one.`;
    return;
  }
  state.confirmBundle = chosen;
  renderActions(d);
  $("bundle-confirm-yes").focus();
}

// act runs one action: buttons are disabled meanwhile, the outcome is announced, errors shown.
async function act(what, fn) {
  state.busy = true;
  renderActions(current());
  try {
    const message = await fn();
    clearError();
    announce(message);
    return true;
  } catch (err) {
    if (err !== signedOut) showError(what, err);
    return false;
  } finally {
    state.busy = false;
    const d = current();
    if (d) renderActions(d);
  }
}

async function changeBundle(d, bundleId) {
  state.confirmBundle = null;
  const ok = await act("Changing the bundle", async () => {
    await call("UpdateDistributionBundle", { distributionName: d.name, bundleId });
    await loadDistributions();
    return `The bundle of ${d.name} is now ${bundleLabel(bundleId)}.`;
  });
  if (!ok) {
    // Refused (another client may have changed the bundle first): show the server's state now.
    await loadDistributions().catch(() => {});
  }
  const now = current();
  if (now) {
    loadUsage(now); // the quota changed, and the next possible change date comes from the operation
  }
  // Success: the change button is now disabled; the note saying why and until when takes the focus.
  if ($("bundle-note")) $("bundle-note").focus();
}

async function setEnabled(d, enabled) {
  await act(enabled ? "Enabling the distribution" : "Disabling the distribution", async () => {
    await call("UpdateDistribution", { distributionName: d.name, isEnabled: enabled });
    await loadDistributions();
    return `${d.name} is ${enabled ? "enabled" : "disabled"}; the change is deploying.`;
  });
}

async function resetCache(d) {
  await act("Resetting the cache", async () => {
    const out = await call("ResetDistributionCache", { distributionName: d.name });
    state.reset = { createTime: out.createTime, status: out.status };
    return `Cache reset of ${d.name} started.`;
  });
}

async function refreshAll() {
  try {
    await loadDistributions();
    const d = current();
    if (d) {
      loadCertificates(d);
      loadUsage(d);
      loadCharts(d);
    }
    clearError();
    announce("Refreshed.");
  } catch (err) {
    if (err !== signedOut) showError("Refreshing the distributions", err);
  }
}

// ---- HTTPS ----

// loadSettings reads what the page cannot learn from the API: the edge's TLS port.
async function loadSettings() {
  try {
    const resp = await fetch("settings.json", { cache: "no-store" });
    if (resp.ok) state.httpsPort = (await resp.json()).httpsPort || null;
  } catch {
    state.httpsPort = null; // the URLs are then shown without a port
  }
}

async function loadCertificates(d) {
  if (!d || !state.client) return;
  const seq = state.seq;
  const list = [];
  try {
    let pageToken;
    do {
      const out = await call("GetCertificates", pageToken ? { includeCertificateDetails: true, pageToken } : { includeCertificateDetails: true });
      list.push(...(out.certificates || []).map((c) => c.certificateDetail).filter(Boolean));
      pageToken = out.nextPageToken;
    } while (pageToken);
  } catch (err) {
    if (seq !== state.seq || err === signedOut) return;
    $("certificates").textContent = isNotImplemented(err) ? "Certificates are not available from this server." : `Certificates could not be loaded: ${err.message}`;
    return;
  }
  if (seq !== state.seq) return;
  state.certificates = list;
  renderCertificates(current());
}

function copyButton(text, label) {
  return h("button", {
    type: "button", class: "copy", "aria-label": label,
    onclick: async (ev) => {
      try {
        await navigator.clipboard.writeText(text);
        ev.target.textContent = "Copied";
        announce(`${label}: copied.`);
      } catch {
        ev.target.textContent = "Select and copy";
      }
    },
  }, "Copy");
}

function renderCertificates(d) {
  if (!d || !state.certificates || !$("certificates")) return;
  const shown = relevantCertificates(d, state.certificates);
  update($("certificates"), JSON.stringify([d.certificateName, shown]), () => {
    if (shown.length === 0) {
      return [h("p", { id: "no-certificates" }, "No certificate is attached and none is waiting for validation. ",
        "Create one with CreateCertificate (aws lightsail create-certificate), add its DNS records, then attach it.")];
    }
    return shown.map((c) => h("div", { class: "certificate", id: `certificate-${c.name}` },
      h("p", {}, h("strong", {}, c.name), " ", h("span", { class: `badge ${c.status === "ISSUED" ? "ok" : "busy"}` }, c.status),
        c.name === d.certificateName ? " attached" : "",
        ` — ${(c.subjectAlternativeNames || []).join(", ")}`,
        c.notAfter ? ` — valid until ${formatUTC(parseTimestamp(c.notAfter))}` : ""),
      c.status === "PENDING_VALIDATION"
        ? h("p", {}, "Create these DNS records to validate the names:")
        : null,
      h("table", { class: "records" },
        h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Name"), h("th", { scope: "col" }, "Type"),
          h("th", { scope: "col" }, "Value"), h("th", { scope: "col" }, "Status"))),
        h("tbody", {}, ...recordsOf(c).map((r, i) => h("tr", { id: `record-${c.name}-${i}` },
          h("td", {}, h("code", {}, r.name), " ", copyButton(r.name, `Record name for ${r.domain}`)),
          h("td", {}, r.type),
          h("td", {}, h("code", {}, r.value), " ", copyButton(r.value, `Record value for ${r.domain}`)),
          h("td", {}, r.status)))))));
  });
}

// ---- start ----

async function main() {
  $("sign-in-form").addEventListener("submit", onSignIn);
  $("sign-out").addEventListener("click", signOut);
  $("refresh").addEventListener("click", refreshAll);
  if (!window.isSecureContext || !window.crypto || !crypto.subtle) {
    showSignIn();
    $("sign-in-button").disabled = true;
    $("alert").textContent = "The console needs a secure context to sign requests: open it over HTTPS or on localhost.";
    return;
  }
  const stored = storedCredentials();
  if (!stored) {
    showSignIn();
    return;
  }
  try {
    await start(stored);
  } catch (err) {
    sessionStorage.removeItem(storageKey);
    showSignIn();
    showError("Signing in with the stored key", err);
  }
}

main();
