// Properties of transforms (lib/transforms/jsonpath-transform.ts), with fast-check over adversarial
// regular expressions (nested quantifiers, overlapping alternations) in JSONPath filters and
// payloads up to the 1 MiB body limit: a declaration is either refused with issues naming the field,
// or every evaluation of it ends within 50 ms (plus, for the 1 MiB payloads, what JSON.parse of the body costs on the machine at that moment), never throws, and reports a stop as an issue.
import t from 'tap'
import fc from 'fast-check'
import { checkTransform, compileTransform } from '../../lib/transforms/jsonpath-transform.ts'
import { cpuMs } from '../cpu-time.ts'

// LOOP_PROPERTY_RUNS=5000 npm test -- test/reliability/properties-*.test.ts searches deeper.
const runs = { numRuns: Number(process.env.LOOP_PROPERTY_RUNS ?? 300) }
const bodyLimit = 1024 * 1024
const boundMs = 50

/** Patterns that take a backtracking engine exponential time on runs of `a`, and more like them. */
const knownEvil = ['(a+)+b', '(a|a)*b', '(a|aa)*c', '((a+)+)+b', '(a*)*b', '(.*a){10}x', '([a-z]+)*0', '(\\p{L}|a)+!', '(a|b|ab|ba)*c', '(.*){1,9}z', '([^b]|a)*b', '[a-z]{1,40}[0-9]']
const atom = fc.constantFrom('a', 'b', '.', '[a-z]', '[^b]', '\\p{L}', '[ab]')
const pattern: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(...knownEvil),
  fc.letrec<{ re: string }>((tie) => ({
    re: fc.oneof(
      { depthSize: 'small', maxDepth: 4, depthIdentifier: 'regex' },
      atom,
      fc.tuple(tie('re'), fc.constantFrom('*', '+', '?', '{1,5}', '{2,30}')).map(([inner, q]) => `(${inner})${q}`),
      fc.tuple(tie('re'), tie('re')).map(([x, y]) => `(${x}|${y})`),
      tie('re').map((x) => `(${x}|${x})*`),
      fc.tuple(tie('re'), tie('re')).map(([x, y]) => `${x}${y}`)
    )
  })).re.map((re) => `${re}b`)
)
/** A pattern inside a single-quoted JSONPath string literal (RFC 9535 escapes its backslashes). */
const quoted = (p: string) => `'${p.replaceAll('\\', '\\\\')}'`
const pathFor = fc.constantFrom(
  (p: string) => `$.items[?search(@.name, ${quoted(p)})].name`,
  (p: string) => `$.items[?match(@.name, ${quoted(p)})].name`,
  (p: string) => `$[?search(@, ${quoted(p)})]`,
  (p: string) => `$..[?match(@, ${quoted(p)})]`,
  (p: string) => `$.*[?search(@, ${quoted(p)})]`,
  (p: string) => `$.items[*][?search(@, ${quoted(p)})]`
)
const transform = fc.array(fc.tuple(pathFor, pattern), { minLength: 1, maxLength: 4 })
  .map((fields) => ({ eventId: '$.id', ...Object.fromEntries(fields.map(([path, p], i) => [`f${i}`, path(p)])) }))

// The large payloads are built once: generating megabytes per run would measure fast-check.
const big = {
  oneLongString: { id: 'e1', items: [{ name: 'a'.repeat(bodyLimit - 64) }] },
  manyKeys: (() => {
    const body: Record<string, unknown> = { id: 'e2' }
    // Each entry adds `,"k<i>":"aaaaaaaa"` to the JSON text.
    for (let i = 0, size = 11; size < bodyLimit - 64; i++, size += String(i).length + 17) body[`k${i}`] = 'aaaaaaaa'
    return body
  })(),
  manyItems: { id: 'e3', items: Array.from({ length: 25_000 }, () => ({ name: 'a'.repeat(28) })) },
  longRuns: { id: 'e4', items: Array.from({ length: 16 }, (_, i) => ({ name: 'a'.repeat(60_000) + (i % 2 === 0 ? '' : '!') })) }
}
for (const [name, body] of Object.entries(big)) {
  const size = Buffer.byteLength(JSON.stringify(body))
  if (size > bodyLimit) throw new Error(`${name} is ${size} bytes, over the body limit`)
}
const small = fc.record({
  id: fc.string(),
  items: fc.array(fc.record({ name: fc.tuple(fc.nat({ max: 200 }), fc.constantFrom('', 'b', '!', '\n')).map(([n, end]) => 'a'.repeat(n) + end) }), { maxLength: 50 })
})
const payload: fc.Arbitrary<[string, unknown]> = fc.oneof(fc.constantFrom(...Object.entries(big)), small.map((body) => ['generated', body] as [string, unknown]))

/**
 * What parsing this payload's JSON costs on this machine right now (best of three). Loop parses
 * every body anyway, so a transform may cost that much again on top of the fixed bound: on a
 * loaded machine both slow down together, and the bound still says "linear, and small".
 */
const texts = new Map(Object.entries(big).map(([name, body]) => [name, JSON.stringify(body)]))
function parseMs (label: string): number {
  const text = texts.get(label)
  if (text === undefined) return 0
  let best = Infinity
  for (let i = 0; i < 3; i++) {
    best = Math.min(best, cpuMs(() => JSON.parse(text)).ms)
  }
  return best
}

const specCodes = ['required', 'invalid_type', 'invalid_string', 'invalid_enum_value', 'unrecognized_keys', 'too_small', 'too_big']

t.test(`a declared transform evaluates in under ${boundMs} ms (plus what parsing the body costs) on any payload up to the body limit, or is refused at declaration`, async (t) => {
  let worst = { ms: 0, transform: {}, payload: '' }
  let evaluated = 0
  let refused = 0
  fc.assert(fc.property(transform, payload, (spec, [label, body]) => {
    const issues = checkTransform(spec, null)
    if (issues.length > 0) {
      refused++
      for (const issue of issues) {
        if (!issue.path.startsWith('transform.f') || !specCodes.includes(issue.code) || issue.message === '') throw new Error(`malformed issue ${JSON.stringify(issue)}`)
      }
      return
    }
    const evaluate = compileTransform(spec)
    // CPU time, best of five: neither another process holding the core nor one garbage
    // collection is the transform's cost.
    let best = Infinity
    for (let attempt = 0; attempt < 5 && best >= boundMs; attempt++) {
      const { result, ms } = cpuMs(() => evaluate(body))
      best = Math.min(best, ms)
      for (const issue of result.issues) if (issue.code !== 'too_big' || !issue.path.startsWith('transform.')) throw new Error(`unexpected issue ${JSON.stringify(issue)}`)
    }
    evaluated++
    if (best > worst.ms) worst = { ms: best, transform: spec, payload: label }
    if (best >= boundMs) {
      const limit = boundMs + parseMs(label)
      if (best >= limit) throw new Error(`took ${best.toFixed(1)} ms on the ${label} payload (bound ${limit.toFixed(1)} ms)`)
    }
  }), runs)
  t.comment(`${evaluated} evaluated, ${refused} refused at declaration; slowest ${worst.ms.toFixed(1)} ms: ${JSON.stringify(worst.transform)} on the ${worst.payload} payload`)
  t.ok(evaluated > refused, 'most generated transforms are accepted')
})

t.test('the known evil patterns are all accepted, and each answers at once on 28 to 100,000 a\'s', async (t) => {
  for (const evil of knownEvil) {
    const spec = { hit: `$.items[?search(@.name, ${quoted(evil)})].name` }
    t.same(checkTransform(spec, null), [], evil)
    const evaluate = compileTransform(spec)
    for (const length of [28, 1000, 100_000]) {
      const body = { items: [{ name: 'a'.repeat(length) }] }
      const { ms } = cpuMs(() => evaluate(body))
      if (ms >= boundMs) t.fail(`${evil} on ${length} a's took ${ms.toFixed(1)} ms`)
    }
  }
})
