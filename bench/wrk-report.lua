-- wrk reporter for bench/edge-vs-nginx.sh: prints one machine-readable line with wrk's exact
-- counters, so the script does not parse wrk's rounded human output ("2.87GB").
-- bytes counts everything wrk read: status lines, header fields and bodies.
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "WRKRESULT requests=%.0f bytes=%.0f duration_us=%.0f status_errors=%d connect_errors=%d read_errors=%d write_errors=%d timeouts=%d p50_us=%.0f p99_us=%.0f\n",
    summary.requests, summary.bytes, summary.duration,
    e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
