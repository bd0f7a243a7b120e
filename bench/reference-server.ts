// The raw-PostgreSQL reference for `npm run bench`: a bare Fastify route that stores the body of a
// POST /api/events request as one row of Loop's own `event` table (migrated into a database of its
// own) with plain `pg`, one BEGIN / INSERT / COMMIT per request on a pool of 10 connections. What
// one durable transaction per request costs on this machine, with none of Loop's plugins, checks
// or fan-out; Loop's group commit should beat it on every path.
// REFERENCE_DATABASE_URL (required), REFERENCE_POOL_SIZE (10: a pool the size of the machine, not
// of the load; 50 connections on 2 cores only queue in PostgreSQL and make the reference slower).
import Fastify from 'fastify'
import pg from 'pg'

const databaseUrl = process.env.REFERENCE_DATABASE_URL
if (databaseUrl === undefined) throw new Error('REFERENCE_DATABASE_URL is required')
const pool = new pg.Pool({ connectionString: databaseUrl, max: Number(process.env.REFERENCE_POOL_SIZE ?? 10) })

interface SendEvent { event: string, payload: { eventId?: unknown } }

const app = Fastify({ logger: false, bodyLimit: 1_048_576 })

app.post<{ Body: SendEvent }>('/events', async (request, reply) => {
  const { event, payload } = request.body
  const client = await pool.connect()
  try {
    await client.query('begin')
    const { rows: [row] } = await client.query<{ id: string }>(
      `insert into event (name, event_id, payload, env, source) values ($1, $2, $3::jsonb, 'live', 'api') returning id`,
      [event, typeof payload.eventId === 'string' ? payload.eventId : null, JSON.stringify(payload)]
    )
    await client.query('commit')
    return await reply.code(200).send({ ok: true, id: row?.id })
  } catch (error) {
    await client.query('rollback').catch(() => {})
    throw error
  } finally {
    client.release()
  }
})

const address = await app.listen({ port: 0, host: '127.0.0.1' })
console.log(`raw-PostgreSQL reference is listening on ${address}`)

process.on('SIGTERM', () => {
  void app.close().then(async () => { await pool.end(); process.exit(0) })
})
