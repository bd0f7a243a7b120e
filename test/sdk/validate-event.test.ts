// validateEvent (the built @loop/contracts) against POST /api/events on a running Loop: for the
// same invalid events both must list exactly the same issues, because both run one validator; and
// the package's event types are the declarations the server serves.
import t from 'tap'
import { randomUUID } from 'node:crypto'
import { eventJsonSchema, eventTypes, validateEvent, type EventName, type EventPayload } from '@loop/contracts'
import * as sdk from '@loop/sdk'
import { createClient } from '@loop/sdk'
import { listeningLoop } from './loop-server.ts'

const loop = await listeningLoop(t)
// One brand's key declares the type and sends the events: a declared type is its brand's alone.
const apiKey = await loop.keyWith(['events:write', 'schemas:write'])
const client = createClient({ baseUrl: loop.baseUrl, apiKey })

const lead = (extra: Record<string, unknown> = {}, drop: string[] = []) => {
  const payload: Record<string, unknown> = {
    eventId: randomUUID(),
    occurredAt: '2026-05-19T12:00:00Z',
    brandId: '7d0c5a4e-2f6b-4c1e-9a63-5f0f8f1f2b11',
    email: 'user@example.com',
    source: 'inbound_lead',
    attribution: {},
    personId: null,
    ...extra
  }
  for (const key of drop) delete payload[key]
  return payload
}

// A declared type with nested objects, arrays, enums, urls and integers.
const quiz = {
  name: 'quiz.completed.v1',
  fields: {
    eventId: { type: 'uuid', required: true },
    occurredAt: { type: 'datetime', required: true },
    email: { type: 'email', required: true },
    score: { type: 'integer', required: true },
    level: { type: 'enum', values: ['easy', 'hard'], required: false },
    page: { type: 'url', required: false },
    quiz: { type: 'object', required: true, fields: { id: { type: 'string', required: true }, version: { type: 'number', required: false } } },
    answers: { type: 'array', required: false, items: { type: 'object', fields: { question: { type: 'string', required: true }, correct: { type: 'boolean', required: true } } } }
  }
} as const
const declared = await client.POST('/api/events/types', { body: quiz as never })
if (declared.response.status !== 201) throw new Error(`declare failed: ${declared.response.status} ${JSON.stringify(declared.error)}`)
const discovered = await client.GET('/api/events/schema/{name}', { params: { path: { name: quiz.name } } })
if (discovered.data === undefined) throw new Error(`schema discovery failed: ${discovered.response.status} ${JSON.stringify(discovered.error)}`)
const quizSchema = discovered.data

const goodQuiz = (extra: Record<string, unknown> = {}) => ({ eventId: randomUUID(), occurredAt: '2026-05-19T12:00:00Z', email: 'a@example.com', score: 3, quiz: { id: 'q1' }, ...extra })

const invalid: Array<{ what: string, event: string, payload: unknown, schema?: typeof quizSchema }> = [
  { what: 'missing email', event: 'lead.captured.v1', payload: lead({}, ['email']) },
  { what: 'malformed email', event: 'lead.captured.v1', payload: lead({ email: 'not-an-email' }) },
  { what: 'eventId not a uuid', event: 'lead.captured.v1', payload: lead({ eventId: '1234' }) },
  { what: 'occurredAt not RFC 3339', event: 'lead.captured.v1', payload: lead({ occurredAt: '2026-05-19' }) },
  { what: 'source outside the enum', event: 'lead.captured.v1', payload: lead({ source: 'billboard' }) },
  { what: 'attribution a string', event: 'lead.captured.v1', payload: lead({ attribution: 'newsletter' }) },
  { what: 'attribution null though required', event: 'lead.captured.v1', payload: lead({ attribution: null }) },
  { what: 'an unknown key', event: 'lead.captured.v1', payload: lead({ utm: 'x' }) },
  { what: 'personId a number', event: 'lead.captured.v1', payload: lead({ personId: 42 }) },
  { what: 'an empty payload', event: 'lead.captured.v1', payload: {} },
  { what: 'the seed\'s invalid payload', event: 'lead.captured.v1', payload: lead({ email: 'invalid', brandId: 'not-a-uuid' }) },
  { what: 'several issues at once', event: 'lead.captured.v1', payload: lead({ email: 5, extra: true, occurredAt: 'yesterday' }, ['source']) },
  { what: 'an undeclared event name', event: 'lead.captured.v9', payload: lead() },
  { what: 'a payload that is an array', event: 'lead.captured.v1', payload: [lead()] },
  { what: 'a payload that is a string', event: 'lead.captured.v1', payload: 'lead' },
  { what: 'custom: nested required field missing', event: quiz.name, payload: goodQuiz({ quiz: {} }), schema: quizSchema },
  { what: 'custom: float where integer', event: quiz.name, payload: goodQuiz({ score: 2.5 }), schema: quizSchema },
  { what: 'custom: mailto where url', event: quiz.name, payload: goodQuiz({ page: 'mailto:a@example.com' }), schema: quizSchema },
  { what: 'custom: array items wrong', event: quiz.name, payload: goodQuiz({ answers: [{ question: 'q', correct: 'yes' }, { correct: true, extra: 1 }] }), schema: quizSchema },
  { what: 'custom: enum and nested unknown key', event: quiz.name, payload: goodQuiz({ level: 'medium', quiz: { id: 'q', v: 1 } }), schema: quizSchema }
]
if (invalid.length !== 20) throw new Error('the comparison covers 20 invalid events')

for (const c of invalid) {
  t.test(c.what, async (t) => {
    const local = validateEvent(c.event, c.payload, c.schema)
    const sent = await fetch(`${loop.baseUrl}/api/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
      body: JSON.stringify({ event: c.event, payload: c.payload })
    })
    t.equal(sent.status, 422, 'the server refuses it')
    const body = await sent.json() as { error: { code: string, issues: unknown[] } }
    t.equal(body.error.code, 'VALIDATION_ERROR')
    t.equal(local.success, false, 'validateEvent refuses it too')
    if (local.success) return
    t.ok(local.error.issues.length > 0)
    t.same(local.error.issues, body.error.issues, 'the same issues, in the same order')
  })
}

t.test('valid events pass locally and are accepted by the server', async (t) => {
  const cases = [
    { event: 'lead.captured.v1', payload: lead(), schema: undefined },
    { event: quiz.name, payload: goodQuiz({ answers: [{ question: 'q', correct: true }], level: 'easy', page: 'https://example.com/q' }), schema: quizSchema }
  ]
  for (const c of cases) {
    const local = validateEvent(c.event, c.payload, c.schema)
    t.same(local, { success: true, data: c.payload })
    const sent = await client.POST('/api/events', { body: { event: c.event, payload: c.payload } })
    t.equal(sent.response.status, 200, `${c.event} accepted`)
  }
})

t.test('a schema may be given as the discovery document or as its fields; a bad one throws', async (t) => {
  const payload = goodQuiz({ score: 'three' })
  t.same(validateEvent(quiz.name, payload, quizSchema), validateEvent(quiz.name, payload, quiz.fields as never))
  t.throws(() => validateEvent('x.v1', {}, { fields: { a: { type: 'date' } } } as never), { name: 'TypeError', message: /fields\.a\.type/ })
  t.match(validateEvent('quiz.completed.v1', goodQuiz()), { success: false, error: { issues: [{ path: 'event', code: 'invalid_enum_value' }] } },
    'without a schema only built-in types are known')
})

t.test('eventTypes are the declarations GET /api/events/schema/{name} serves, and type the payloads', async (t) => {
  const names = Object.keys(eventTypes) as EventName[]
  t.ok(names.includes('lead.captured.v1') && names.length >= 5, names.join(', '))
  for (const name of names) {
    const served = await client.GET('/api/events/schema/{name}', { params: { path: { name } } })
    t.same(served.data?.fields, eventTypes[name], `${name} as the server serves it`)
  }
  const checked = validateEvent('lead.captured.v1', lead())
  if (!checked.success) throw new Error('a valid lead')
  const typed: EventPayload<'lead.captured.v1'> = checked.data
  t.equal(typed.source, 'inbound_lead')
  t.match(eventJsonSchema('lead.captured.v1'), { type: 'object', required: ['eventId', 'occurredAt', 'brandId', 'email', 'source', 'attribution'], additionalProperties: false })
  t.throws(() => eventJsonSchema('nope.v1' as EventName), TypeError)
  t.equal(sdk.validateEvent, validateEvent, '@loop/sdk re-exports the same function')
})
