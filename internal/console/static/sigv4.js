// AWS Signature Version 4 for the browser, over WebCrypto (HMAC-SHA256, SHA-256). Written from the
// AWS General Reference, "Create a signed AWS API request" (canonical request, string to sign,
// signing key, signature). It signs what the console sends: a request with no query string.
// WebCrypto's SubtleCrypto exists only in secure contexts (HTTPS, or http://localhost).

const algorithm = "AWS4-HMAC-SHA256";
const encoder = new TextEncoder();

function hex(buffer) {
  return Array.from(new Uint8Array(buffer), (b) => b.toString(16).padStart(2, "0")).join("");
}

export async function sha256Hex(data) {
  const bytes = typeof data === "string" ? encoder.encode(data) : data;
  return hex(await crypto.subtle.digest("SHA-256", bytes));
}

async function hmac(key, data) {
  const k = await crypto.subtle.importKey("raw", typeof key === "string" ? encoder.encode(key) : key,
    { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return crypto.subtle.sign("HMAC", k, encoder.encode(data));
}

// amzDate formats an instant as SigV4's basic ISO 8601 form, 20261126T021812Z.
export function amzDate(date) {
  return date.toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");
}

// RFC 3986 unreserved characters stay; everything else is percent-encoded (SigV4 canonical URI rule).
function uriEncodeSegment(s) {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase());
}

function canonicalURI(path) {
  return path.split("/").map(uriEncodeSegment).join("/") || "/";
}

// Header values are trimmed and inner runs of spaces collapsed (canonical headers rule).
function canonicalValue(v) {
  return String(v).trim().replace(/\s+/g, " ");
}

// signRequest returns the headers to send: the given ones plus X-Amz-Date and Authorization.
// Every given header is signed, and host must be among them (the server refuses signatures that do
// not cover it, so a signature cannot be replayed against another endpoint).
//   request: { method, path, headers: {name: value}, body: string }
//   credentials: { accessKeyId, secretAccessKey }
//   scope: { region, service }
//   date: the signing time (a Date)
export async function signRequest(request, credentials, scope, date) {
  if (request.path.includes("?")) {
    throw new Error("signRequest: query strings are not supported");
  }
  const stamp = amzDate(date);
  const day = stamp.slice(0, 8);
  const headers = {};
  for (const [name, value] of Object.entries(request.headers)) {
    headers[name.toLowerCase()] = canonicalValue(value);
  }
  headers["x-amz-date"] = stamp;
  if (!("host" in headers)) {
    throw new Error("signRequest: the host header must be signed");
  }
  const names = Object.keys(headers).sort();
  const signedHeaders = names.join(";");
  const payloadHash = await sha256Hex(request.body ?? "");
  const canonicalRequest = [
    request.method.toUpperCase(),
    canonicalURI(request.path),
    "",
    names.map((n) => `${n}:${headers[n]}\n`).join(""),
    signedHeaders,
    payloadHash,
  ].join("\n");
  const credentialScope = `${day}/${scope.region}/${scope.service}/aws4_request`;
  const stringToSign = [algorithm, stamp, credentialScope, await sha256Hex(canonicalRequest)].join("\n");

  const kDate = await hmac("AWS4" + credentials.secretAccessKey, day);
  const kRegion = await hmac(kDate, scope.region);
  const kService = await hmac(kRegion, scope.service);
  const kSigning = await hmac(kService, "aws4_request");
  const signature = hex(await hmac(kSigning, stringToSign));

  const out = { ...request.headers };
  out["X-Amz-Date"] = stamp;
  out["Authorization"] = `${algorithm} Credential=${credentials.accessKeyId}/${credentialScope}, ` +
    `SignedHeaders=${signedHeaders}, Signature=${signature}`;
  return out;
}
