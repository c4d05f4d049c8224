// Summarises one results file of the cache-tests client the way cache-tests.fyi counts it:
// a test passes only if it and every test it depends_on pass; browser-only tests are not counted.
//
//	node summary.mjs CACHE_TESTS_DIR RESULTS.json [--failures]
//
// Prints "required: X/N optional/optimal: Y/M" (and, with --failures, every required or optimal test
// that did not pass, grouped by the suite's test groups, with the client's message).
import fs from 'node:fs'
import path from 'node:path'
import { pathToFileURL } from 'node:url'

const [dirArg, resultsArg, ...flags] = process.argv.slice(2)
if (!dirArg || !resultsArg) {
  console.error('usage: node summary.mjs CACHE_TESTS_DIR RESULTS.json [--failures]')
  process.exit(2)
}
const dir = path.resolve(dirArg)
const load = p => import(pathToFileURL(path.join(dir, p)).href)
const suites = (await load('tests/index.mjs')).default
const { determineTestResult, resultTypes } = await load('test-engine/lib/results.mjs')
const results = JSON.parse(fs.readFileSync(resultsArg, 'utf8'))

const count = { required: [0, 0], optimal: [0, 0], check: [0, 0] }
const failures = []
for (const suite of suites) {
  for (const test of suite.tests) {
    if (test.browser_only) continue
    const kind = test.kind || 'required'
    const verdict = determineTestResult(suites, test.id, results)
    count[kind][1]++
    if (verdict === resultTypes.pass || verdict === resultTypes.yes) {
      count[kind][0]++
    } else if (kind !== 'check') {
      const raw = results[test.id]
      const why = verdict === resultTypes.dependency_fail
        ? `dependency failed (${test.depends_on.join(', ')})`
        : Array.isArray(raw) ? raw.join(': ') : String(raw)
      failures.push({ suite: suite.name, id: test.id, kind, symbol: verdict[2], why })
    }
  }
}
const ratio = ([a, b]) => `${a}/${b}`
console.log(`required: ${ratio(count.required)} optional/optimal: ${ratio(count.optimal)} checks(yes): ${ratio(count.check)}`)
if (flags.includes('--failures')) {
  let last = ''
  for (const f of failures) {
    if (f.suite !== last) console.log(`\n## ${f.suite}`)
    last = f.suite
    console.log(`${f.symbol} ${f.kind === 'optimal' ? '(optimal) ' : ''}${f.id}: ${f.why}`)
  }
}
