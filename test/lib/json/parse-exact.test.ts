import t from 'tap'
import { parseJsonExact } from '../../../lib/json/parse-exact.ts'

const cases: [string, string, unknown][] = [
  ['a 64-bit id keeps every digit', '{"id":820982911946154508}', { id: '820982911946154508' }],
  ['negative long integers too', '[-820982911946154508]', ['-820982911946154508']],
  ['15-digit integers stay numbers', '{"n":123456789012345}', { n: 123456789012345 }],
  ['fractions and exponents stay numbers', '{"f":1234567890123456.5,"e":1e300}', { f: 1234567890123456.5, e: 1e300 }],
  ['digits inside strings are untouched', '{"s":"820982911946154508","q":"a\\"12345678901234567"}', { s: '820982911946154508', q: 'a"12345678901234567' }]
]
for (const [name, text, expected] of cases) t.test(name, async (t) => { t.same(parseJsonExact(text), expected) })

t.test('invalid JSON still throws', async (t) => {
  t.throws(() => parseJsonExact('{"id": 12345678901234567890abc}'))
  t.throws(() => parseJsonExact('{"id": '))
})
