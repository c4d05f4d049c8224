// Pure helpers of the console: billing-cycle dates, metric series, formatting. No DOM, no network.

// The gigabyte of Lightsail transfer quotas: decimal, as internal/billing.BytesPerGB.
export const bytesPerGB = 1e9;

// A billing cycle is the calendar month in UTC (internal/billing/cycle.go).
export function cycleStart(now) {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
}

export function nextCycleStart(now) {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1));
}

// epochSeconds converts a Date to the API's timestamp form.
export function epochSeconds(d) {
  return Math.floor(d.getTime() / 1000);
}

// parseTimestamp reads an API timestamp (epoch seconds, maybe fractional) into a Date.
export function parseTimestamp(v) {
  if (typeof v === "number") return new Date(v * 1000);
  if (typeof v === "string" && v !== "") {
    const n = Number(v);
    return Number.isFinite(n) ? new Date(n * 1000) : new Date(v);
  }
  return null;
}

// A window of metric buckets: [start, end) cut into `count` periods of `period` seconds.
export function cycleWindow(now) {
  const start = cycleStart(now);
  const days = Math.floor((now - start) / 86400000) + 1;
  return { start, end: now, period: 86400, count: days };
}

export function lastDayWindow(now) {
  const hour = new Date(Math.floor(now.getTime() / 3600000) * 3600000);
  const start = new Date(hour.getTime() - 23 * 3600000);
  return { start, end: now, period: 3600, count: 24 };
}

// series puts datapoints into the window's buckets by their timestamp; buckets without a datapoint
// get `missing` (0 for counts, null for averages: no traffic is no error rate, not a 0% one).
export function series(datapoints, statistic, win, missing) {
  const values = new Array(win.count).fill(missing);
  const start = epochSeconds(win.start);
  for (const p of datapoints || []) {
    const t = parseTimestamp(p.timestamp);
    const v = p[statistic];
    if (!t || typeof v !== "number") continue;
    const i = Math.floor((epochSeconds(t) - start) / win.period);
    if (i >= 0 && i < win.count) values[i] = (values[i] ?? 0) + v;
  }
  return values.map((value, i) => ({ at: new Date((start + i * win.period) * 1000), value }));
}

// projectedUsage extends the cycle's usage so far linearly to the end of the cycle.
export function projectedUsage(used, now) {
  const start = cycleStart(now);
  const elapsed = now - start;
  if (elapsed <= 0) return used;
  return used * ((nextCycleStart(now) - start) / elapsed);
}

// transferOut is the data transfer out a GetCostEstimate answer reports — to viewers and to the
// origin, what the quota counts — in bytes, from sailcdn's "DataTransferOut" usage type (GB per
// day); null when the answer has none.
export function transferOut(result) {
  let gb = null;
  for (const r of result.resourcesBudgetEstimate || []) {
    for (const c of r.costEstimates || []) {
      if (c.usageType !== "DataTransferOut") continue;
      for (const t of c.resultsByTime || []) {
        if (typeof t.unit === "number") gb = (gb ?? 0) + t.unit;
      }
    }
  }
  return gb === null ? null : Math.round(gb * bytesPerGB);
}

// totalUsageCost adds up the usageCost of every result of a GetCostEstimate answer.
export function totalUsageCost(result) {
  let total = 0;
  let currency = "USD";
  for (const r of result.resourcesBudgetEstimate || []) {
    for (const c of r.costEstimates || []) {
      for (const t of c.resultsByTime || []) {
        if (typeof t.usageCost === "number") total += t.usageCost;
        if (t.currency) currency = t.currency;
      }
    }
  }
  return { total, currency };
}

// formatBytes uses decimal units, like the quota.
export function formatBytes(n) {
  const units = ["B", "kB", "MB", "GB", "TB", "PB"];
  let i = 0;
  let v = n;
  while (Math.abs(v) >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return i === 0 ? `${Math.round(v)} B` : `${v.toFixed(v >= 100 ? 0 : v >= 10 ? 1 : 2)} ${units[i]}`;
}

export function formatCount(n) {
  return new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 }).format(n);
}

export function formatCompact(n) {
  return new Intl.NumberFormat("en-US", { notation: "compact", maximumFractionDigits: 1 }).format(n);
}

export function formatPercent(n) {
  return `${n.toFixed(n >= 10 ? 1 : 2)}%`;
}

export function formatMoney(amount, currency) {
  // A few hours of a plan cost fractions of a cent; "$0.00" would read as free.
  if (amount > 0 && amount < 0.005) return `< ${formatMoney(0.01, currency)}`;
  try {
    return new Intl.NumberFormat("en-US", { style: "currency", currency, minimumFractionDigits: 2, maximumFractionDigits: 2 }).format(amount);
  } catch {
    return `${amount.toFixed(2)} ${currency}`;
  }
}

// formatUTCDay: "2026-12-01"; formatUTC: "2026-12-01 00:00 UTC". ISO order, never ambiguous.
export function formatUTCDay(d) {
  return d.toISOString().slice(0, 10);
}

export function formatUTC(d) {
  return `${d.toISOString().slice(0, 16).replace("T", " ")} UTC`;
}
