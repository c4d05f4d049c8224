// The Lightsail JSON API client of the console: every call is POST / with
// X-Amz-Target: Lightsail_20161128.<Op>, signed in the page (sigv4.js). Nothing here is privileged:
// the server applies its rules to these calls exactly as to any SDK's.

import { signRequest } from "./sigv4.js";

const targetPrefix = "Lightsail_20161128";
// Distributions exist only in us-east-1; their APIs answer only there.
export const region = "us-east-1";
const service = "lightsail";

// ApiError is an AWS-shaped error answer (or a network failure, type "NetworkError").
export class ApiError extends Error {
  constructor(status, type, code, message) {
    super(message || type);
    this.status = status;
    this.type = type;
    this.code = code || "";
  }
}

// errorType follows the SDKs' order (smithy-go ResolveProtocolErrorType): the X-Amzn-ErrorType
// header, else the body's __type, else its code; keep what lies after a "#" and before a ":".
function errorType(header, body) {
  let t = header || body.__type || body.code || "UnknownError";
  t = t.split(":")[0];
  return t.includes("#") ? t.slice(t.lastIndexOf("#") + 1) : t;
}

// Client signs and sends API calls with one credential. It also tracks the server's "now", read from
// the Date header of the API's answers, because billing cycles run on the server's clock, not on the
// viewer's.
export class Client {
  constructor(credentials, { endpoint = location.origin, fetchFn = fetch.bind(window) } = {}) {
    this.credentials = credentials;
    this.endpoint = new URL(endpoint);
    this.fetchFn = fetchFn;
    this.serverDate = null; // { server: ms from the Date header, local: Date.now() when received }
    this.skewMs = 0; // applied to signing times after the server refused ours as skewed
  }

  // serverNow estimates the server's clock: the last Date header plus the time elapsed since.
  serverNow() {
    if (!this.serverDate) return new Date();
    return new Date(this.serverDate.server + (Date.now() - this.serverDate.local));
  }

  async call(operation, input = {}) {
    let res = await this.send(operation, input);
    // A signature refused while the server's Date header is minutes away from ours means our clock is
    // off (SigV4 allows 15 minutes). The SDKs then re-sign with the server's time once; so do we.
    if (res.status === 403 && this.serverDate) {
      const skew = this.serverDate.server - this.serverDate.local;
      if (Math.abs(skew) > 5 * 60 * 1000 && Math.abs(skew - this.skewMs) > 60 * 1000) {
        this.skewMs = skew;
        res = await this.send(operation, input);
      }
    }
    return this.read(res);
  }

  async send(operation, input) {
    const body = JSON.stringify(input);
    const headers = await signRequest(
      {
        method: "POST",
        path: "/",
        headers: {
          Host: this.endpoint.host,
          "Content-Type": "application/x-amz-json-1.1",
          "X-Amz-Target": `${targetPrefix}.${operation}`,
        },
        body,
      },
      this.credentials,
      { region, service },
      new Date(Date.now() + this.skewMs),
    );
    delete headers.Host; // the browser sends it itself, from the URL
    let res;
    try {
      res = await this.fetchFn(new URL("/", this.endpoint), {
        method: "POST", headers, body, credentials: "omit", cache: "no-store",
      });
    } catch (e) {
      throw new ApiError(0, "NetworkError", "", `The API could not be reached (${e.message}).`);
    }
    const date = Date.parse(res.headers.get("Date") || "");
    if (!Number.isNaN(date)) this.serverDate = { server: date, local: Date.now() };
    return res;
  }

  async read(res) {
    const text = await res.text();
    let body = {};
    try {
      body = text ? JSON.parse(text) : {};
    } catch {
      body = {};
    }
    if (!res.ok) {
      const type = errorType(res.headers.get("X-Amzn-ErrorType"), body);
      const message = body.message || body.Message || `${res.status} ${res.statusText}`;
      throw new ApiError(res.status, type, body.code, message);
    }
    return body;
  }
}

// isNotImplemented tells an operation the server does not serve (yet) from a real failure.
export function isNotImplemented(err) {
  return err instanceof ApiError && (err.type === "NotImplementedException" || err.status === 501);
}
