// Preloaded (node --import) into the cache-tests origin server by bench/conformance.sh. It changes
// two things and nothing else:
//
//  1. Loopback only: the suite's server calls listen(port), which binds every interface; this binds
//     it to CT_ORIGIN_HOST (default 127.0.0.1) instead.
//  2. Req-Num recovery: the suite's client numbers its requests in a Req-Num request field and the
//     server needs it back (it picks the scripted response by it and reports it, which is how the
//     client tells an origin fetch from a cache hit and spots retries). A Lightsail distribution
//     cannot forward a field without also keying the cache on it (forwardedHeaders allow-list), and
//     a key that changes with every request would defeat the cache under test. So client-hook.mjs
//     also writes the number as a Via pseudonym ("1.1 cachetests-req-N", RFC 9110 §7.6.3), which the
//     edge forwards but does not key on; here it is turned back into Req-Num when the field itself
//     did not arrive. A request the cache sends on its own carries the Via of the request it was
//     made for, so its number is the client's, as with a proxy that forwards Req-Num itself.
import http from 'node:http'

const host = process.env.CT_ORIGIN_HOST || '127.0.0.1'
const pseudonym = /(?:^|,)\s*1\.1 cachetests-req-(\d+)\s*(?=,|$)/

function recoverReqNum (req) {
  if (req.headers['req-num'] !== undefined) return
  const m = pseudonym.exec(req.headers.via || '')
  if (m) req.headers['req-num'] = m[1]
}

const createServer = http.createServer
http.createServer = function (...args) {
  const i = args.findIndex(a => typeof a === 'function')
  if (i >= 0) {
    const handler = args[i]
    args[i] = function (req, res) {
      recoverReqNum(req)
      return handler.call(this, req, res)
    }
  }
  const server = createServer.apply(this, args)
  const listen = server.listen
  server.listen = function (port, ...rest) {
    if ((typeof port === 'number' || typeof port === 'string') && typeof rest[0] !== 'string') {
      return listen.call(this, Number(port), host, ...rest)
    }
    return listen.call(this, port, ...rest)
  }
  return server
}
