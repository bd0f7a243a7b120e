// The baseline for `npm run bench`: Fastify with one JSON route and nothing else, so the ratio
// shows what Loop's ingestion (signature, mapping, one transaction) costs on top of Fastify.
import Fastify from 'fastify'

const app = Fastify({ logger: false, bodyLimit: 1_048_576 })
app.post('/ingest', async (_request, reply) => await reply.code(201).send({ ok: true }))

const address = await app.listen({ port: 0, host: '127.0.0.1' })
console.log(`bare Fastify is listening on ${address}`)

process.on('SIGTERM', () => {
  void app.close().then(() => process.exit(0))
})
