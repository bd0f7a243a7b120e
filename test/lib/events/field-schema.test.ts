import t from 'tap'
import { builtinEventTypes } from '../../../lib/events/builtin-types.ts'
import { checkFieldSpecs, compileEventValidator, fieldsToJsonSchema, type FieldSpecs } from '../../../lib/events/field-schema.ts'

const lead = compileEventValidator(builtinEventTypes['lead.captured.v1'] as FieldSpecs)
const seedPayload = {
  eventId: '550e8400-e29b-41d4-a716-446655440000',
  occurredAt: '2026-05-19T12:00:00Z',
  brandId: '7d0c5a4e-2f6b-4c1e-9a63-5f0f8f1f2b11',
  email: 'user@example.com',
  source: 'inbound_lead',
  attribution: {},
  personId: null
}
const issueKeys = (issues: { path: string, code: string }[]) => issues.map((i) => `${i.code}@${i.path}`).sort()

t.test("the seed's lead.captured.v1 payload is valid", async (t) => {
  t.same(lead(seedPayload), [])
})

const cases: [string, Record<string, unknown>, string[]][] = [
  ['a bad email and an unknown source are both reported', { email: 'not-an-email', source: 'x' }, ['invalid_enum_value@source', 'invalid_string@email']],
  ['a missing required field is `required` on its path', { email: undefined }, ['required@email']],
  ['an extra field is `unrecognized_keys` on its path', { extra: 1 }, ['unrecognized_keys@extra']],
  ['a wrong type is `invalid_type`', { attribution: 'utm' }, ['invalid_type@attribution']],
  ['a datetime without a zone is not RFC 3339', { occurredAt: '2026-05-19 12:00:00' }, ['invalid_string@occurredAt']],
  ['an optional uuid still has to be a uuid', { personId: 'p-1' }, ['invalid_string@personId']],
  ['null is refused for a required field', { brandId: null }, ['invalid_type@brandId']]
]
for (const [name, change, expected] of cases) {
  t.test(name, async (t) => {
    const payload: Record<string, unknown> = { ...seedPayload, ...change }
    for (const [key, value] of Object.entries(change)) if (value === undefined) delete payload[key]
    const issues = lead(payload)
    t.same(issueKeys(issues), expected)
    for (const issue of issues) t.type(issue.message, 'string')
  })
}

t.test("the seed's email issue reads exactly as the seed shows it", async (t) => {
  t.same(lead({ ...seedPayload, email: 'not-an-email' }), [{ path: 'email', message: 'Invalid email', code: 'invalid_string' }])
})

t.test('every type maps to the right JSON Schema and checks values', async (t) => {
  const fields: FieldSpecs = {
    id: { type: 'uuid', required: true },
    at: { type: 'datetime', required: true },
    email: { type: 'email', required: true },
    site: { type: 'url', required: true },
    name: { type: 'string', required: true },
    amount: { type: 'number', required: true },
    count: { type: 'integer', required: true },
    paid: { type: 'boolean', required: true },
    plan: { type: 'enum', values: ['free', 'pro'], required: true },
    meta: { type: 'object', required: false },
    items: { type: 'array', required: false, items: { type: 'object', fields: { sku: { type: 'string', required: true } } } }
  }
  const validate = compileEventValidator(fields)
  const good = { id: '550e8400-e29b-41d4-a716-446655440000', at: '2026-01-01T00:00:00.5+02:00', email: 'a@b.co', site: 'https://x.dev/a', name: '', amount: 1.5, count: 2, paid: false, plan: 'pro', meta: null, items: [{ sku: 'a' }] }
  t.same(validate(good), [])
  const bad = { id: 'x', at: 'yesterday', email: 'a@', site: 'mailto:a@b.co', name: 1, amount: '1.5', count: 2.5, paid: 'yes', plan: 'gold', meta: [], items: [{ sku: 'a' }, { qty: 1 }] }
  t.same(issueKeys(validate(bad)), [
    'invalid_enum_value@plan',
    'invalid_string@at',
    'invalid_string@email',
    'invalid_string@id',
    'invalid_string@site',
    'invalid_type@amount',
    'invalid_type@count',
    'invalid_type@meta',
    'invalid_type@name',
    'invalid_type@paid',
    'required@items.1.sku',
    'unrecognized_keys@items.1.qty'
  ])
  const schema = fieldsToJsonSchema(fields)
  t.match(schema, { type: 'object', additionalProperties: false, required: ['id', 'at', 'email', 'site', 'name', 'amount', 'count', 'paid', 'plan'] })
  t.match(schema, { properties: { id: { format: 'uuid' }, at: { format: 'date-time' }, plan: { enum: ['free', 'pro'] }, meta: { type: ['object', 'null'] } } })
})

t.test('declarations are checked beyond what the contract can say', async (t) => {
  t.same(checkFieldSpecs({ a: { type: 'enum' } }).map((i) => `${i.code}@${i.path}`), ['required@fields.a.values'])
  t.same(checkFieldSpecs({ a: { type: 'string', values: ['x'] } }).map((i) => `${i.code}@${i.path}`), ['unrecognized_keys@fields.a.values'])
  t.same(checkFieldSpecs({ a: { type: 'object', fields: { b: { type: 'money' } } } }).map((i) => `${i.code}@${i.path}`), ['invalid_enum_value@fields.a.fields.b.type'])
  t.same(checkFieldSpecs({ 'bad-name': { type: 'string' } }).map((i) => `${i.code}@${i.path}`), ['invalid_string@fields.bad-name'])
  t.same(checkFieldSpecs({}).map((i) => i.code), ['too_small'])
  let deep: Record<string, unknown> = { type: 'string' }
  for (let i = 0; i < 10; i++) deep = { type: 'object', fields: { x: deep } }
  t.ok(checkFieldSpecs({ root: deep }).some((i) => i.code === 'too_big'), 'nesting is bounded')
  for (const [name, fields] of Object.entries(builtinEventTypes)) t.same(checkFieldSpecs(fields), [], `${name} is a valid declaration`)
})

t.test('fields named after Object.prototype members are read from the payload itself', async (t) => {
  // As a declaration arrives: parsed JSON (TypeScript types a `constructor` key in a literal oddly).
  const validate = compileEventValidator(JSON.parse('{"constructor":{"type":"string","required":true},"toString":{"type":"integer","required":false}}') as FieldSpecs)
  t.same(validate({ constructor: 'x' }), [], 'an optional toString left out is not the inherited function')
  t.match(validate({}), [{ path: 'constructor', code: 'required' }], 'a required constructor left out is missing')
})
