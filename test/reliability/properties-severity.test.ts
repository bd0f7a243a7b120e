// Properties of the severity mappers (lib/severity/*), checked with fast-check over generated
// payloads: they never throw on any JSON, always answer a known severity and a storable title,
// and follow the tables of docs/signals.md#severity-and-priority, restated here independently of the code under test.
import t from 'tap'
import fc from 'fast-check'
import { severityFromGithub } from '../../lib/severity/github.ts'
import { severityFromPosthog } from '../../lib/severity/posthog.ts'
import { severityFromSentry } from '../../lib/severity/sentry.ts'
import { maxTitleLength, priorityFromSeverity, severities, type Severity, type SignalMapping } from '../../lib/severity/signal-mapping.ts'

// LOOP_PROPERTY_RUNS=5000 npm test -- test/reliability/properties-*.test.ts searches deeper.
const runs = { numRuns: Number(process.env.LOOP_PROPERTY_RUNS ?? 400) }

/** Any JSON value, keys such as __proto__ and constructor included, and strings with NUL and controls. */
const anyJson = fc.jsonValue({ maxDepth: 5 }).chain((value) => fc.oneof(
  fc.constant(value),
  fc.constant(JSON.parse(`{"__proto__":{"polluted":1},"constructor":{"prototype":{"x":1}},"data":${JSON.stringify(value)}}`))
))
const text = fc.oneof(fc.string(), fc.string({ unit: 'grapheme' }), fc.constantFrom('\u0000', 'a\u0000b', '\n\t \r', 'x'.repeat(2000), 'constructor', '__proto__', 'valueOf', 'toString', 'hasOwnProperty'))

/** A payload shaped like a provider's, with any value (or none) at the paths the mappers read. */
const around = (shape: (leaf: () => fc.Arbitrary<unknown>) => fc.Arbitrary<unknown>) =>
  shape(() => fc.oneof(text, fc.double(), fc.integer(), fc.boolean(), fc.constant(null), anyJson))

function checkMapping (mapping: SignalMapping): void {
  if (!severities.includes(mapping.severity)) throw new Error(`unknown severity ${String(mapping.severity)}`)
  if (typeof mapping.title !== 'string' || mapping.title.length === 0 || mapping.title.length > maxTitleLength) throw new Error(`bad title length ${mapping.title.length}`)
  if (/\s{2}|^\s|\s$|\n/.test(mapping.title)) throw new Error(`title not on one line: ${JSON.stringify(mapping.title)}`)
  for (const value of [mapping.title, mapping.type, mapping.sourceId, mapping.description]) {
    if (value !== undefined && value.includes('\u0000')) throw new Error('U+0000 would not store in PostgreSQL text')
  }
  if (typeof mapping.type !== 'string' || mapping.type.length === 0) throw new Error('no type')
}

t.test('no payload makes a mapper throw, and every answer is a known severity with a storable one-line title', async (t) => {
  const githubEvents = fc.oneof(fc.constantFrom('push', 'issues', 'pull_request', 'workflow_run', 'check_suite', 'dependabot_alert', 'code_scanning_alert', 'secret_scanning_alert', 'security_advisory', 'repository_vulnerability_alert', 'ping', 'star', 'constructor', 'valueOf', '__proto__', 'toString'), fc.string({ minLength: 1 }))
  fc.assert(fc.property(githubEvents, anyJson, (event, payload) => checkMapping(severityFromGithub(event, payload))), runs)
  fc.assert(fc.property(anyJson, fc.option(fc.string()), (payload, resource) => checkMapping(severityFromSentry(payload, resource ?? undefined))), runs)
  fc.assert(fc.property(anyJson, (payload) => checkMapping(severityFromPosthog(payload))), runs)
  // The same with the fields the mappers look for present, holding anything.
  const sentryShaped = around((leaf) => fc.record({ action: leaf(), data: fc.record({ issue: fc.record({ id: leaf(), title: leaf(), level: leaf(), count: leaf(), culprit: leaf(), web_url: leaf() }) }) }))
  fc.assert(fc.property(sentryShaped, (payload) => checkMapping(severityFromSentry(payload))), runs)
  const posthogShaped = around((leaf) => fc.record({ name: leaf(), value: leaf(), timeframe: leaf(), event: fc.oneof(leaf(), fc.record({ event: fc.constantFrom('$insight_alert_firing', '$pageview'), properties: fc.record({ alert_name: leaf(), breaches: leaf(), value: leaf(), alert_id: leaf() }) })) }))
  fc.assert(fc.property(posthogShaped, (payload) => checkMapping(severityFromPosthog(payload))), runs)
  const githubShaped = around((leaf) => fc.record({ action: leaf(), alert: fc.record({ number: leaf(), severity: leaf(), security_advisory: fc.record({ severity: leaf() }), rule: fc.record({ severity: leaf() }) }), workflow_run: fc.record({ head_branch: leaf(), conclusion: leaf(), id: leaf() }), issue: fc.record({ number: leaf(), title: leaf(), labels: leaf() }), repository: fc.record({ full_name: leaf(), default_branch: leaf() }) }))
  fc.assert(fc.property(githubEvents, githubShaped, (event, payload) => checkMapping(severityFromGithub(event, payload))), runs)
  t.pass('thousands of generated payloads mapped')
})

t.test('Sentry follows the level and count table', async (t) => {
  // SPEC: fatal → critical; error with count ≥ 100 → critical; error → high; warning → medium; else low.
  const expected = (level: string | undefined, count: number | undefined): Severity => {
    const l = level?.trim().toLowerCase()
    if (l === 'fatal') return 'critical'
    if (l === 'error') return count !== undefined && count >= 100 ? 'critical' : 'high'
    if (l === 'warning') return 'medium'
    return 'low'
  }
  const level = fc.oneof(fc.constantFrom('fatal', 'error', 'warning', 'info', 'debug', 'FATAL', 'Error', ' warning '), fc.string())
  const count = fc.option(fc.integer({ min: 0, max: 1_000_000 }), { nil: undefined })
  const where = fc.constantFrom('issue', 'error', 'event')
  fc.assert(fc.property(level, count, fc.boolean(), where, (lvl, n, asString, object) => {
    const payload = { action: 'created', data: { [object]: { title: 'TypeError', level: lvl, ...(n === undefined ? {} : { count: asString ? String(n) : n }) } } }
    const wanted = expected(lvl.trim() === '' ? undefined : lvl, n)
    const got = severityFromSentry(payload).severity
    if (got !== wanted) throw new Error(`level ${JSON.stringify(lvl)} count ${n}: ${got}, wanted ${wanted}`)
  }), runs)
  t.pass('Sentry severities match the table')
})

t.test('PostHog follows the |value| thresholds, and a firing insight alert is at least high', async (t) => {
  const expected = (v: number): Severity => (Math.abs(v) >= 50 ? 'critical' : Math.abs(v) >= 25 ? 'high' : Math.abs(v) >= 10 ? 'medium' : 'low')
  const value = fc.double({ min: -1000, max: 1000, noNaN: true })
  fc.assert(fc.property(value, fc.constantFrom('number', 'string', 'percent'), (v, form) => {
    const sent = form === 'number' ? v : form === 'string' ? String(v) : `${v}%`
    const got = severityFromPosthog({ name: 'page_load_time', value: sent, timeframe: 'last_7_days' }).severity
    if (got !== expected(v)) throw new Error(`value ${JSON.stringify(sent)}: ${got}, wanted ${expected(v)}`)
  }), runs)
  fc.assert(fc.property(fc.option(value, { nil: undefined }), (v) => {
    const mapped = severityFromPosthog({ event: { event: '$insight_alert_firing', properties: { alert_name: 'Signups', ...(v === undefined ? {} : { value: v }) } } })
    const floor = v === undefined ? 'high' : expected(v) === 'critical' ? 'critical' : 'high'
    if (mapped.severity !== floor) throw new Error(`alert with value ${v}: ${mapped.severity}, wanted ${floor}`)
  }), runs)
  t.pass('PostHog severities match the thresholds')
})

t.test('GitHub: alerts take their own severity, failed runs depend on the branch, the rest is low', async (t) => {
  const stated: Record<string, Severity> = { critical: 'critical', high: 'high', moderate: 'medium', medium: 'medium', low: 'low' }
  const alerts = fc.constantFrom(
    ['dependabot_alert', (s: string) => ({ alert: { number: 1, security_advisory: { severity: s }, dependency: { package: { name: 'lodash' } } } })] as const,
    ['repository_vulnerability_alert', (s: string) => ({ alert: { number: 1, severity: s, affected_package_name: 'lodash' } })] as const,
    ['security_advisory', (s: string) => ({ security_advisory: { severity: s, summary: 'x', ghsa_id: 'GHSA-1' } })] as const
  )
  // An unknown stated severity errs urgent (high); names of Object.prototype members are unknown too.
  const statedOrOdd = fc.oneof(fc.constantFrom(...Object.keys(stated)), fc.constantFrom('constructor', 'valueOf', '__proto__', 'toString', 'bogus'))
  fc.assert(fc.property(alerts, statedOrOdd, fc.constantFrom('created', 'reopened', undefined), ([event, body], severity, action) => {
    const got = severityFromGithub(event, { ...(action === undefined ? {} : { action }), ...body(severity), repository: { full_name: 'octo/app' } }).severity
    const wanted = Object.hasOwn(stated, severity) ? stated[severity] : 'high'
    if (got !== wanted) throw new Error(`${event} ${severity}: ${got}, wanted ${wanted}`)
  }), runs)
  fc.assert(fc.property(fc.string(), (name) => severityFromGithub('secret_scanning_alert', { action: 'created', alert: { number: 2, secret_type: name } }).severity === 'critical'), runs)
  fc.assert(fc.property(fc.constantFrom('workflow_run', 'check_suite'), fc.constantFrom('failure', 'timed_out', 'startup_failure', 'success', 'cancelled', 'neutral'), fc.constantFrom('main', 'feature/x'), (event, conclusion, branch) => {
    const failed = ['failure', 'timed_out', 'startup_failure'].includes(conclusion)
    const wanted: Severity = !failed ? 'low' : branch === 'main' ? 'high' : 'medium'
    const got = severityFromGithub(event, { action: 'completed', [event]: { conclusion, head_branch: branch, id: 9 }, repository: { full_name: 'octo/app', default_branch: 'main' } }).severity
    if (got !== wanted) throw new Error(`${event} ${conclusion} on ${branch}: ${got}, wanted ${wanted}`)
  }), runs)
  fc.assert(fc.property(fc.constantFrom('push', 'pull_request', 'star', 'fork', 'release'), anyJson, (event, payload) => severityFromGithub(event, payload).severity === 'low'), runs)
  t.pass('GitHub severities match the rules')
})

t.test('priority follows severity: critical 1 … low 4, never out of order', async (t) => {
  fc.assert(fc.property(fc.constantFrom(...severities), fc.constantFrom(...severities), (a, b) =>
    (severities.indexOf(a) < severities.indexOf(b)) === (priorityFromSeverity(a) < priorityFromSeverity(b))), runs)
  t.same(severities.map(priorityFromSeverity), [1, 2, 3, 4])
})
