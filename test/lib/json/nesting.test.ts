import t from 'tap'
import { exceedsNesting } from '../../../lib/json/nesting.ts'
import { cpuMs } from '../../cpu-time.ts'

const nested = (depth: number) => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth)
const bytes = (text: string) => Buffer.from(text, 'utf8')

// [name, JSON text, limit, exceeds]
const cases: [string, string, number, boolean][] = [
  ['a scalar nests 0 levels', '42', 0, false],
  ['an empty object is 1 level', '{}', 1, false],
  ['an empty object is over a limit of 0', '{}', 0, true],
  ['objects and arrays both count', '{"a":[{"b":[1]}]}', 4, false],
  ['one more level than the limit', '{"a":[{"b":[1]}]}', 3, true],
  ['siblings do not add up', '[[1],[2],[3],{"a":1}]', 2, false],
  ['brackets inside strings are text', '{"a":"[[[[{{{{"}', 1, false],
  ['an escaped quote does not end the string', '{"a":"\\"[[[[["}', 1, false],
  ['an escaped backslash before the closing quote does', '{"a":"\\\\","b":[[1]]}', 2, true],
  ['non-ASCII text is skipped like any other', '{"é":"{[ü]}","b":["日本"]}', 2, false],
  ['exactly 64 levels under a limit of 64', nested(64), 64, false],
  ['65 levels under a limit of 64', nested(65), 64, true],
  ['20,000 levels', nested(20_000), 64, true],
  ['unbalanced closers never go negative', ']]]]{"a":{}}', 1, true],
  ['an unterminated string ends the scan', '{"a":"[[[[', 1, false]
]

for (const [name, text, limit, exceeds] of cases) {
  t.test(name, async (t) => { t.equal(exceedsNesting(bytes(text), limit), exceeds) })
}

t.test('a 1 MiB body scans in a few milliseconds', async (t) => {
  const body = bytes(JSON.stringify({ items: Array.from({ length: 20_000 }, (_, i) => ({ id: i, name: `item ${i} "[{"`, tags: ['a', 'b'] })) }))
  const { result, ms } = cpuMs(() => exceedsNesting(body, 64))
  t.equal(result, false)
  t.ok(ms < 50, `${body.length} bytes in ${ms.toFixed(1)} ms of CPU time`)
})
