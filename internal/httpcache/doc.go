// Package httpcache is sailcdn's RFC 9111 shared cache: given a request the edge has already
// routed, filtered and keyed, it answers from storage, revalidates, or fetches from the origin
// (collapsing concurrent fetches), and stores what HTTP allows within a byte budget.
// It owns every HTTP caching rule; routing, forwarding rules, the cache key and the TTL policy
// belong to the edge (package edge).
//
// # What the cache does
//
//   - Storing (RFC 9111 §3): GET responses (HEAD is answered from them; OPTIONS when the policy
//     lists it) with a final status, explicit freshness or a heuristically cacheable status
//     (RFC 9110 §15.1) or public; not no-store (request or response), private, Vary: *, a
//     response to a request with Authorization unless public, s-maxage or must-revalidate
//     (§3.5), or an error that blames the request (400, 408, 411, 413, 414, 417, 429, 431: the
//     key never holds all the origin judged, so one viewer's bad request must not answer others). must-understand lets a known status override no-store (§5.2.2.3). A response that
//     is stale on arrival and has no validator is not stored. Hop-by-hop fields and fields
//     named by Connection are neither stored nor forwarded, nor are the Proxy-* fields (§3.1);
//     fields named by qualified no-cache/private are not stored. Date is added when missing.
//   - Freshness (§4.2): s-maxage, then max-age, then Expires − Date (an invalid Expires is
//     stale); else Policy.DefaultTTL, else 10% of Date − Last-Modified (capped at 7 days).
//     Then clamped to [Policy.MinTTL, Policy.MaxTTL]; an error (>= 400) is only capped, never
//     raised: it keeps exactly its own freshness, or Policy.ErrorTTL. Age follows §4.2.3 exactly (upstream Age,
//     response delay, apparent age) and is sent on every response from storage. A valid
//     CDN-Cache-Control (RFC 9213) replaces Cache-Control for this cache's decisions.
//   - Reuse: Vary with normalised secondary keys (whitespace, combined lines; Accept-* members
//     case-folded and sorted; Accept-Language selection by qvalue against Content-Language),
//     up to 32 variants per URI; request max-age, min-fresh, max-stale, no-cache,
//     only-if-cached (504); no-cache responses always revalidated; must-revalidate,
//     proxy-revalidate and s-maxage never served stale.
//   - Validation: the viewer's If-None-Match (weak comparison, lists, *) and If-Modified-Since
//     (against Last-Modified, else Date) are answered with 304 from storage; a stale response is
//     revalidated with its stored ETag/Last-Modified, and a 304 updates the stored header fields
//     (§3.2, all but Content-Length) and restarts its age: X-Cache RefreshHit.
//   - Stale: stale-while-revalidate serves stale and runs one background revalidation on a
//     detached context; stale-if-error (response or request) serves stale on a 5xx or an
//     unreachable origin; an unreachable origin also counts as "disconnected" (§4.2.4) so a stale
//     response is served unless a directive forbids it.
//   - Invalidation (§4.4): a 2xx/3xx to an unsafe method (anything but GET, HEAD, OPTIONS,
//     TRACE) removes every stored response for the target URI — whatever edge keys and variants
//     — and for same-origin Location and Content-Location. A POST response whose
//     Content-Location is its own URI and that has explicit freshness is stored as the GET
//     response (RFC 9110 §9.3.3).
//   - Ranges: a single byte range (with If-Range) is served as 206 from a stored 200; several
//     ranges get the whole 200; unsatisfiable gets 416. On a miss, Range is forwarded and the
//     partial response passed through unstored.
//   - Interim 1xx responses (103 Early Hints) are relayed to the viewer and never stored.
//
// # What a viewer may force for itself
//
// A viewer's request directives decide what that viewer accepts; they never remove or replace
// what the other viewers get:
//
//   - no-cache, max-age and min-fresh make the cache ask the origin before answering this viewer.
//     The exchange is the cache's usual revalidation or fill, shared with every viewer of the
//     object that needs the origin at the same time (so a flood of no-cache requests reaches the
//     origin once per object at a time), and its answer is stored by the cache's rules, as a
//     revalidation on expiry would be.
//   - max-stale accepts a stale response, only-if-cached refuses a fetch (504): for this viewer.
//   - no-store: nothing of this viewer's exchange is stored (RFC 9111 §5.2.1.5). A stored
//     response may still answer it; when it needs the origin it gets an exchange of its own,
//     which neither leads a shared fill nor stores, freshens or removes anything.
//   - The viewer's Cache-Control and Pragma are never sent to the origin on a fill or
//     revalidation (the edge forwards them only on requests the cache passes through).
//
// # Sharing and bounds
//
// Concurrent requests that need the origin for the same URI, method and key share one origin
// exchange: the first fetches on context.WithoutCancel of its viewer's context, so a viewer that
// hangs up does not cancel the fill. When the response may be stored, its body is read by a fill
// on a goroutine of its own, at the origin's pace and never at a viewer's: the first viewer and
// every one that joins meanwhile follow it as it arrives, each at its own pace (a follower gets
// the shared header section — no Set-Cookie, Age computed — and X-Cache Hit). A viewer that stops
// reading therefore delays nobody; its own write deadline (the edge's) cuts it off. When the
// response may not be stored, the waiters fetch for themselves.
//
// Bytes in flight are bounded (fill.go): a fill holds at most Config.MaxBufferedBody (the body
// kept whole for storage), and all fills together at most Config.MaxInFlight (plus one 32 KiB
// read per fill). A response declared larger than MaxBufferedBody is not shared: each viewer
// streams its own origin response (a flush per 32 KiB chunk), and it is never buffered whole or
// stored. A fill whose body outgrows MaxBufferedBody, or that would exceed MaxInFlight, gives up
// storing: viewers not yet following fetch for themselves, and those following get a stream read
// at the fastest one's pace, which cuts off (Result.Aborted) any that falls MaxBufferedBody
// behind it (one read behind under MaxInFlight pressure) — a slow viewer never paces the others.
//
// Storage is one otter (W-TinyLFU) cache weighted in bytes (headers + body + overhead) with
// MaximumWeight = Config.MaxBytes; entries are grouped per URI (its escaped path in normal form),
// so invalidation is one delete. Purge moves the namespace's generation (part of every storage
// key), so nothing older is visible from that instant, then deletes the old entries.
//
// A response whose body fails after its header section went out is reported as Result.Aborted:
// the caller must abort the viewer's connection (a chunked response ended cleanly would look
// complete). Nothing truncated is ever stored.
//
// # Not implemented (by choice)
//
//   - Storing 206 responses and combining partial content (§3.3, §3.4): ranges are served only
//     from complete stored responses.
//   - Updating stored responses from HEAD responses (§4.3.5): a HEAD on a stale entry is simply
//     forwarded.
//   - Validating several stored variants at once (§4.3.1, an If-None-Match listing the ETags of
//     other variants): a request that matches no variant is a plain miss.
//   - Warning (obsoleted by RFC 9111) and Pragma (§5.4: no defined response meaning) are ignored.
//   - If-Match / If-Unmodified-Since are not evaluated by the cache: such requests pass through.
package httpcache
