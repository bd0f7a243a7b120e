// The baselines for `npm run bench`: Fastify with two JSON routes and nothing else, so each ratio
// shows what Loop adds on top of Fastify itself. POST /ingest takes a JSON body and answers 201
// (the baseline of every write path); GET /items answers a list of 20 small objects through a
// compiled response schema, as Loop's lists do (the baseline of GET /api/events).
import Fastify from 'fastify'

const items = Array.from({ length: 20 }, (_, i) => ({
  id: `0b6f7c9e-3f55-4a57-9a4e-6f1f2f6f4c${String(i).padStart(2, '0')}`,
  event: 'lead.captured.v1',
  eventId: `550e8400-e29b-41d4-a716-4466554400${String(i).padStart(2, '0')}`,
  receivedAt: '2026-12-03T06:00:00.000Z'
}))
const itemSchema = {
  type: 'object',
  properties: { id: { type: 'string' }, event: { type: 'string' }, eventId: { type: 'string' }, receivedAt: { type: 'string' } }
}

const app = Fastify({ logger: false, bodyLimit: 1_048_576 })
app.post('/ingest', async (_request, reply) => await reply.code(201).send({ ok: true }))
app.get('/items', {
  schema: { response: { 200: { type: 'object', properties: { data: { type: 'array', items: itemSchema }, done: { type: 'boolean' } } } } }
}, async () => ({ data: items, done: true }))

const address = await app.listen({ port: 0, host: '127.0.0.1' })
console.log(`bare Fastify is listening on ${address}`)

process.on('SIGTERM', () => {
  void app.close().then(() => process.exit(0))
})
