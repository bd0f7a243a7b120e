import t from 'tap'
import { build, envelope } from '../../../helper.ts'

const app = await build(t)

t.test('GET /api/events/schema/lead.captured.v1 answers in the seed shape, without a key', async (t) => {
  const res = await app.inject({ method: 'GET', url: '/api/events/schema/lead.captured.v1' })
  t.equal(res.statusCode, 200)
  const body = res.json()
  t.equal(body.name, 'lead.captured.v1')
  t.same(body.fields, {
    eventId: { type: 'uuid', required: true },
    occurredAt: { type: 'datetime', required: true },
    brandId: { type: 'uuid', required: true },
    email: { type: 'email', required: true },
    source: { type: 'enum', values: ['vsl_form', 'quiz_completion', 'inbound_lead', 'other'], required: true },
    attribution: { type: 'object', required: true },
    personId: { type: 'uuid', required: false }
  })
  t.same(Object.keys(body.fields), ['eventId', 'occurredAt', 'brandId', 'email', 'source', 'attribution', 'personId'], 'fields in declaration order')
  t.match(body.jsonSchema, { type: 'object', additionalProperties: false, properties: { email: { type: 'string', format: 'email' } } })
})

t.test('an unknown type is 404 in the envelope', async (t) => {
  const res = await app.inject({ method: 'GET', url: '/api/events/schema/nope.v1' })
  t.equal(res.statusCode, 404)
  t.match(res.json(), envelope('NOT_FOUND'))
})

t.test('GET /api/events/schemas lists the built-in types', async (t) => {
  const res = await app.inject({ method: 'GET', url: '/api/events/schemas' })
  t.equal(res.statusCode, 200)
  t.match(res.json(), { iterator: null, done: true }, 'every type on one page')
  const names = res.json().data.map((s: { name: string }) => s.name)
  const paged: string[] = []
  let iterator: string | null = null
  for (let pages = 0; pages < 20; pages++) {
    const page: { data: { name: string }[], iterator: string | null, done: boolean } = (await app.inject({ method: 'GET', url: `/api/events/schemas?limit=2${iterator === null ? '' : `&iterator=${iterator}`}` })).json()
    paged.push(...page.data.map((s) => s.name))
    iterator = page.iterator
    if (page.done) break
  }
  t.same(paged, names, 'paged two at a time, the same types in the same order')
  t.equal((await app.inject({ method: 'GET', url: '/api/events/schemas?limit=251' })).statusCode, 422)
  for (const name of ['lead.captured.v1', 'order.completed.v1', 'customer.created.v1', 'fulfillment.created.v1', 'form.submitted.v1', 'booking.created.v1', 'booking.canceled.v1']) {
    t.ok(names.includes(name), `${name} is built in`)
  }
})
