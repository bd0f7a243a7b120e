// The raw-PostgreSQL reference for `npm run bench` (issue 9): a bare Fastify route that verifies
// the same GitHub HMAC over the raw bytes and writes the same two rows as Loop (a signal and its
// triage issue, in Loop's own tables, migrated into a database of its own) with plain `pg`, one
// BEGIN / INSERT / INSERT / COMMIT per request. What one durable transaction per request costs on
// this machine, with none of Loop's plugins; Loop's group commit should beat it.
// REFERENCE_DATABASE_URL (required), GITHUB_WEBHOOK_SECRET (required), REFERENCE_POOL_SIZE (50).
import Fastify from 'fastify'
import { createHash } from 'node:crypto'
import pg from 'pg'
import { priorityFromSeverity } from '../lib/severity/signal-mapping.ts'
import { severityFromGithub } from '../lib/severity/github.ts'
import { verifyGithubSignature } from '../lib/signing/github.ts'

const databaseUrl = process.env.REFERENCE_DATABASE_URL
const secret = process.env.GITHUB_WEBHOOK_SECRET
if (databaseUrl === undefined || secret === undefined) throw new Error('REFERENCE_DATABASE_URL and GITHUB_WEBHOOK_SECRET are required')
const pool = new pg.Pool({ connectionString: databaseUrl, max: Number(process.env.REFERENCE_POOL_SIZE ?? 50) })

const app = Fastify({ logger: false, bodyLimit: 1_048_576 })
app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_request, body, done) => { done(null, body) })

app.post('/ingest', async (request, reply) => {
  const raw = request.body as Buffer
  const header = request.headers['x-hub-signature-256']
  if (typeof header !== 'string' || !verifyGithubSignature(raw, header, secret)) return await reply.code(401).send({ ok: false })
  const event = String(request.headers['x-github-event'] ?? '')
  const deliveryId = request.headers['x-github-delivery']
  const mapping = severityFromGithub(event, JSON.parse(raw.toString('utf8')))
  const client = await pool.connect()
  try {
    await client.query('begin')
    const { rows: [signal] } = await client.query<{ id: string }>(
      `insert into signal (source, type, severity, source_id, delivery_id, payload, payload_hash)
       values ('github', $1, $2, $3, $4, $5::jsonb, $6) returning id`,
      [mapping.type, mapping.severity, mapping.sourceId ?? null, deliveryId ?? null, raw.toString('utf8'), createHash('sha256').update(raw).digest('hex')]
    )
    const { rows: [issue] } = await client.query<{ id: string }>(
      `insert into issue (type, status, priority, title, description, signal_id)
       values ('signal', 'triage', $1, $2, $3, $4) returning id`,
      [priorityFromSeverity(mapping.severity), mapping.title, mapping.description ?? null, signal?.id]
    )
    await client.query('commit')
    return await reply.code(201).send({ ok: true, signalId: signal?.id, issueId: issue?.id })
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
