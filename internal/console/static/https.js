// HTTPS facts of a distribution: the URLs it answers on and the certificate records a user copies into
// their DNS. Pure functions; app.js renders them.

// httpsURL is the distribution's URL for host on the edge's TLS port (port 443 or unknown: none shown).
export function httpsURL(host, port) {
  return port && port !== 443 ? `https://${host}:${port}/` : `https://${host}/`;
}

// hostsOf lists every name a distribution answers on: its own domain name, then its alternative ones.
export function hostsOf(d) {
  return [d.domainName, ...(d.alternativeDomainNames || [])].filter(Boolean);
}

// recordsOf returns a certificate's DNS validation records as rows: name, type, value, status.
export function recordsOf(cert) {
  return (cert.domainValidationRecords || []).map((r) => ({
    domain: r.domainName || "",
    name: (r.resourceRecord || {}).name || "",
    type: (r.resourceRecord || {}).type || "CNAME",
    value: (r.resourceRecord || {}).value || "",
    status: r.validationStatus || "",
  }));
}

// relevantCertificates is what the distribution view shows: the attached certificate first, then the
// account's certificates still waiting for their validation records.
export function relevantCertificates(d, certificates) {
  const attached = certificates.filter((c) => c.name === d.certificateName);
  const waiting = certificates.filter((c) => c.name !== d.certificateName && c.status === "PENDING_VALIDATION");
  return [...attached, ...waiting];
}
