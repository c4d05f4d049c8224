// Preloaded (node --import) into the cache-tests client by bench/conformance.sh.
//
//  1. Names under .localhost resolve to 127.0.0.1 (RFC 6761 §6.3, as curl and browsers do; glibc
//     does not), so the client can use a distribution's domain name as its base URL and the edge
//     routes on the Host field exactly as it would for a viewer.
//  2. With CT_TAG_VIA=1, every request carrying the suite's Req-Num field also gets a Via element
//     "1.1 cachetests-req-N": see origin-hook.mjs for why and how the origin reads it back.
import dns from 'node:dns'

const lookup = dns.lookup
dns.lookup = function (hostname, options, callback) {
  if (typeof options === 'function') {
    callback = options
    options = {}
  }
  if (typeof options === 'number') options = { family: options }
  const name = String(hostname).toLowerCase().replace(/\.$/, '')
  if (name === 'localhost' || name.endsWith('.localhost')) {
    if (options && options.all) {
      process.nextTick(callback, null, [{ address: '127.0.0.1', family: 4 }])
    } else {
      process.nextTick(callback, null, '127.0.0.1', 4)
    }
    return
  }
  return lookup.call(this, hostname, options, callback)
}

if (process.env.CT_TAG_VIA === '1') {
  const origFetch = globalThis.fetch
  globalThis.fetch = function (url, init) {
    const headers = init && Array.isArray(init.headers) ? init.headers : null
    const reqNum = headers && headers.find(h => String(h[0]).toLowerCase() === 'req-num')
    if (reqNum) {
      init = { ...init, headers: [...headers, ['Via', `1.1 cachetests-req-${reqNum[1]}`]] }
    }
    return origFetch.call(this, url, init)
  }
}
