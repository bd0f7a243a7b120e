import t from 'tap'
import { checkTransform, coerceToFields, compileTransform } from '../../../lib/transforms/jsonpath-transform.ts'

const payload = { id: 7, created_at: 1561479335, note_attributes: [{ name: 'brand_id', value: 'b-1' }], user: { email: 'a@b.co' } }

t.test('paths map values, literals copy, misses leave the field out', async (t) => {
  const transform = compileTransform({ eventId: '$.id', brand: '$.note_attributes[?@.name == "brand_id"].value', source: 'shop', email: '$.user.email', missing: '$.nope' })
  t.same(transform(payload), { eventId: 7, brand: 'b-1', source: 'shop', email: 'a@b.co' })
})

const refused = [
  "$..[?(@.constructor.constructor('return process')())]",
  '$[(@.length-1)]',
  "$[?(eval('1'))]",
  '$.a[?(@.b = 1)]',
  'not a path but $ later'
]
for (const expression of refused) {
  t.test(`refused at declaration: ${expression}`, async (t) => {
    const issues = checkTransform({ eventId: expression }, null)
    if (expression.startsWith('$')) t.match(issues, [{ path: 'transform.eventId', code: 'invalid_string' }])
    else t.same(issues, [], 'a string not starting with $ is a literal, never evaluated')
  })
}

t.test('transforms name only declared fields and must be objects', async (t) => {
  t.same(checkTransform({ eventId: '$.id' }, { eventId: { type: 'string', required: true } }), [])
  t.match(checkTransform({ other: '$.id' }, { eventId: { type: 'string', required: true } }), [{ path: 'transform.other', code: 'unrecognized_keys' }])
  // Object.prototype's members are no field of any event type.
  t.match(checkTransform({ constructor: '$.id', toString: '$.x' }, { eventId: { type: 'string', required: true } }), [{ path: 'transform.constructor', code: 'unrecognized_keys' }, { path: 'transform.toString', code: 'unrecognized_keys' }])
  t.match(checkTransform(['$.id'], null), [{ path: 'transform', code: 'invalid_type' }])
})

t.test('lossless coercion toward declared types', async (t) => {
  t.same(coerceToFields({ id: 7, at: 1561479335, atMs: 1561479335000, flag: true, n: 3 }, {
    id: { type: 'string', required: true },
    at: { type: 'datetime', required: true },
    atMs: { type: 'datetime', required: true },
    flag: { type: 'string', required: true },
    n: { type: 'integer', required: true }
  }), { id: '7', at: '2019-06-25T16:15:35.000Z', atMs: '2019-06-25T16:15:35.000Z', flag: 'true', n: 3 })
})
