// Score an http-cache-tests result file the way the suite itself classifies
// results (lib/display.mjs determineTestResult, dependencies honoured).
//
//   node lib/score.mjs RESULTS.json [--target NAME] [--summary-out FILE]
//                      [--failures-out FILE]
//
// Prints a one-line summary and, with --failures-out, writes the failing
// required tests (and optimal ones) with the suite's failure message.
import fs from 'fs'
import path from 'path'
import { fileURLToPath } from 'url'

const here = path.dirname(fileURLToPath(import.meta.url))
const suiteDir = path.join(here, '..', 'node_modules', 'http-cache-tests')
const { default: suites } = await import(path.join(suiteDir, 'tests', 'index.mjs'))
const { default: surrogate } = await import(path.join(suiteDir, 'tests', 'surrogate-control.mjs'))
const display = await import(path.join(suiteDir, 'lib', 'display.mjs'))
// cli.mjs runs the surrogate-control suite too (non-browser caches only)
suites.push(surrogate)

const args = process.argv.slice(2)
const file = args[0]
const opt = name => {
  const i = args.indexOf(name)
  return i >= 0 ? args[i + 1] : undefined
}
function metas () {
  const out = {}
  args.forEach((a, i) => {
    if (a !== '--meta') return
    const kv = args[i + 1] || ''
    const eq = kv.indexOf('=')
    if (eq > 0) out[kv.slice(0, eq)] = kv.slice(eq + 1)
  })
  return out
}
const target = opt('--target') || path.basename(file, '.json')
const results = JSON.parse(fs.readFileSync(file, 'utf8'))

// result symbol -> category name (display.mjs resultTypes, 3rd element)
const category = {
  '-': 'untested',
  '✅': 'pass',
  '⛔️': 'fail',
  '⚠️': 'optional_fail',
  Y: 'yes',
  N: 'no',
  '🔹': 'setup_fail',
  '⁉️': 'harness_fail',
  '⚪️': 'dependency_fail',
  '↻': 'retry'
}

const byKind = { required: {}, optimal: {}, check: {} }
const rows = []
for (const suite of suites) {
  for (const test of suite.tests) {
    if (test.browser_only === true) continue // cli.mjs never runs these
    const kind = test.kind || 'required'
    const cat = category[display.determineTestResult(suites, test.id, results)[2]]
    byKind[kind][cat] = (byKind[kind][cat] || 0) + 1
    const raw = results[test.id]
    rows.push({
      id: test.id,
      suite: suite.id,
      kind,
      result: cat,
      message: Array.isArray(raw) ? `${raw[0]}: ${raw[1]}` : (raw === undefined ? 'not run' : ''),
      depends_on: test.depends_on || []
    })
  }
}
const count = (kind, ...cats) => cats.reduce((n, c) => n + (byKind[kind][c] || 0), 0)
const total = kind => Object.values(byKind[kind]).reduce((a, b) => a + b, 0)

const req = { total: total('required'), pass: count('required', 'pass') }
req.rate = req.total ? (100 * req.pass / req.total) : 0
const summary = {
  target,
  required: { ...req, rate: Number(req.rate.toFixed(1)), breakdown: byKind.required },
  optimal: { total: total('optimal'), pass: count('optimal', 'pass'), breakdown: byKind.optimal },
  check: { total: total('check'), yes: count('check', 'yes'), breakdown: byKind.check },
  tests_run: Object.keys(results).length,
  meta: metas()
}
const line = `${target}: required ${req.pass}/${req.total} = ${req.rate.toFixed(1)}% ` +
  `(fail ${count('required', 'fail')}, dependency ${count('required', 'dependency_fail')}, ` +
  `setup ${count('required', 'setup_fail')}, retry ${count('required', 'retry')}, ` +
  `untested ${count('required', 'untested')}); ` +
  `optimal ${summary.optimal.pass}/${summary.optimal.total}; ` +
  `check yes ${summary.check.yes}/${summary.check.total}; ` +
  `${summary.tests_run} tests run`
console.log(line)
summary.line = line

const summaryOut = opt('--summary-out')
if (summaryOut) fs.writeFileSync(summaryOut, JSON.stringify(summary, null, 2) + '\n')
const failuresOut = opt('--failures-out')
if (failuresOut) {
  const lines = []
  for (const kind of ['required', 'optimal']) {
    lines.push(`## ${kind}: not passed`)
    for (const r of rows) {
      if (r.kind !== kind || r.result === 'pass') continue
      const dep = r.result === 'dependency_fail' ? ` (depends on ${r.depends_on.join(', ')})` : ''
      lines.push(`${r.result}\t${r.suite}\t${r.id}\t${r.message}${dep}`)
    }
    lines.push('')
  }
  fs.writeFileSync(failuresOut, lines.join('\n'))
}
