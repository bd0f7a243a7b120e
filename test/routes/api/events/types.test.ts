import t from 'tap'
import { authHeaders, build, envelope, operatorHeaders } from '../../../helper.ts'

const app = await build(t)
const declarer = await authHeaders(app, ['schemas:write', 'events:write'])
const declare = (body: Record<string, unknown>) => app.inject({ method: 'POST', url: '/api/events/types', headers: declarer, payload: body })

const quiz = {
  name: 'quiz.completed.v1',
  fields: {
    eventId: { type: 'uuid', required: true },
    email: { type: 'email', required: true },
    score: { type: 'integer', required: true },
    answers: { type: 'array', items: { type: 'object', fields: { question: { type: 'string', required: true } } } }
  }
}

t.test('a new version is declared (201), the identical declaration again is 200, a different one 409', async (t) => {
  const created = await declare(quiz)
  t.equal(created.statusCode, 201, created.body)
  t.match(created.json(), { name: 'quiz.completed.v1', brandId: String, builtIn: false, fields: { score: { type: 'integer', required: true } }, jsonSchema: { type: 'object' } })
  t.same(Object.keys(created.json()).sort(), ['brandId', 'builtIn', 'fields', 'jsonSchema', 'name'], 'the event type itself; no inbound without a route')
  const again = await declare({ ...quiz, fields: { ...quiz.fields } })
  t.equal(again.statusCode, 200, 'identical: 200, not created again')
  t.same(again.json(), created.json(), 'the same event type')
  const changed = await declare({ ...quiz, fields: { ...quiz.fields, score: { type: 'number', required: true } } })
  t.equal(changed.statusCode, 409)
  t.match(changed.json(), envelope('CONFLICT'))
  t.match(changed.json().error.message, /quiz\.completed\.v2/)
  const builtin = await declare({ name: 'lead.captured.v1', fields: { email: { type: 'email', required: true } } })
  t.equal(builtin.statusCode, 409, 'built-in types are immutable too')
})

t.test('a declared type validates events at once, nested paths included', async (t) => {
  const res = await app.inject({
    method: 'POST',
    url: '/api/events',
    headers: declarer,
    payload: { event: 'quiz.completed.v1', payload: { eventId: '550e8400-e29b-41d4-a716-446655440000', email: 'a@b.co', score: 1.5, answers: [{ question: 'q' }, {}] } }
  })
  t.equal(res.statusCode, 422)
  t.same(res.json().error.issues.map((i: { code: string, path: string }) => `${i.code}@${i.path}`).sort(), ['invalid_type@score', 'required@answers.1.question'])
})

t.test('bad declarations are 422 with the bad path', async (t) => {
  const noVersion = await declare({ name: 'quiz.completed', fields: quiz.fields })
  t.equal(noVersion.statusCode, 422)
  t.same(noVersion.json().error.issues.map((i: { path: string }) => i.path), ['name'])
  const enumWithoutValues = await declare({ name: 'plan.changed.v1', fields: { plan: { type: 'enum', required: true } } })
  t.equal(enumWithoutValues.statusCode, 422)
  t.same(enumWithoutValues.json().error.issues, [{ path: 'fields.plan.values', message: 'Required for enum fields', code: 'required' }])
  const unknownType = await declare({ name: 'plan.changed.v1', fields: { plan: { type: 'money' } } })
  t.equal(unknownType.statusCode, 422)
  t.match(unknownType.json().error.issues[0], { path: 'fields.plan.type', code: 'invalid_enum_value' })
})

t.test('a transform with a deeply nested literal is 422 with the envelope, not stored', async (t) => {
  let deep: unknown = 'x'
  for (let level = 0; level < 30; level++) deep = { a: deep }
  const res = await declare({ name: 'quiz.completed.v1', source: 'custom', webhookPath: '/webhooks/quiz/deep', secret: 'quiz-secret-1', transform: { eventId: '$.id', answers: deep } })
  t.equal(res.statusCode, 422, res.body)
  t.match(res.json(), envelope('VALIDATION_ERROR'))
  t.match(res.json().error.issues, [{ path: 'transform.answers', code: 'too_big', message: /nest at most 8 levels/ }])
  const probe = await app.inject({ method: 'POST', url: '/webhooks/quiz/deep', headers: { 'content-type': 'application/json' }, payload: '{}' })
  t.equal(probe.statusCode, 404, 'no route was created')
})

t.test('declaring needs schemas:write', async (t) => {
  const res = await app.inject({ method: 'POST', url: '/api/events/types', headers: await authHeaders(app, ['events:write']), payload: quiz })
  t.equal(res.statusCode, 403)
})

t.test('with 1,000 declared types, validation compiles nothing per request and looks types up in memory', async (t) => {
  const registry = app.eventTypes
  const em = app.orm.em.fork()
  const operator = await operatorHeaders(app, ['events:write'])
  for (let i = 0; i < 1000; i++) {
    registry.remember((await registry.declare(em, null, `bulk.type_${i}.v1`, { eventId: { type: 'uuid', required: true }, n: { type: 'integer', required: true } })).type)
  }
  const compiledBefore = registry.compiled
  const answers = []
  for (let i = 0; i < 50; i++) {
    answers.push(await app.inject({ method: 'POST', url: '/api/events', headers: operator, payload: { event: `bulk.type_${i * 7}.v1`, payload: { eventId: `550e8400-e29b-41d4-a716-${String(i).padStart(12, '0')}`, n: i } } }))
  }
  t.ok(answers.every((a) => a.statusCode === 200), 'all accepted')
  t.equal(registry.compiled, compiledBefore, 'no validator was compiled while serving requests')
})
