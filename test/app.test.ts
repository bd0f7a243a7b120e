// buildApp as a whole: a start that fails part-way releases what the plugins before it opened;
// a listening server bounds how long a client may hold a socket.
import t from 'tap'
import pg from 'pg'
import { connect, type Socket } from 'node:net'
import { once } from 'node:events'
import type { FastifyInstance } from 'fastify'
import { buildApp } from './../app.ts'
import { loadConfig } from '../lib/config.ts'
import { createTestDatabase } from './database.ts'
import { build, testSecrets } from './helper.ts'
import { eventually } from './receiver.ts'

t.test('a plugin failing after the database closes the pool instead of leaving it open', async (t) => {
  const database = await createTestDatabase()
  t.teardown(database.drop)
  const admin = new pg.Client({ connectionString: database.url })
  await admin.connect()
  t.teardown(() => admin.end())
  // The admin key's bootstrap (plugins/auth.ts, after the database plugin) cannot write its row.
  await admin.query('drop table api_key cascade')
  const config = loadConfig({ LOG_LEVEL: 'silent', ...testSecrets, DATABASE_URL: database.url, LOOP_ADMIN_KEY: 'lk_live_' + 'A'.repeat(40) })

  await t.rejects(buildApp(config, { deliveryWorker: false }), /api_key/)
  const others = async () => {
    const { rows } = await admin.query<{ n: number }>('select count(*)::int as n from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()')
    return rows[0]?.n === 0 ? true : undefined
  }
  await eventually(others, 5_000, 'every connection Loop opened to be closed')
  t.pass('no connection left behind')
})

async function listening (app: FastifyInstance): Promise<number> {
  await app.listen({ port: 0, host: '127.0.0.1' })
  const address = app.server.address()
  if (address === null || typeof address === 'string') throw new Error('not listening on TCP')
  return address.port
}

interface Closed { answer: string, afterMs: number }

/**
 * Opens a socket, writes `head`, then calls `trickle` (if any) every `everyMs` until the server
 * closes the socket; resolves with what the server wrote and when it closed. Rejects when the
 * socket is still open after `deadlineMs`: without a timeout it would stay open for ever.
 */
async function holdSocket (port: number, head: string, deadlineMs: number, trickle?: { everyMs: number, write: (socket: Socket) => void }): Promise<Closed> {
  const socket = connect(port, '127.0.0.1')
  await once(socket, 'connect')
  const startedAt = Date.now()
  const chunks: Buffer[] = []
  socket.on('data', (chunk: Buffer) => chunks.push(chunk))
  socket.on('error', () => {})
  socket.write(head)
  const ticker = trickle === undefined ? undefined : setInterval(() => { if (socket.writable) trickle.write(socket) }, trickle.everyMs)
  let timedOut = false
  const deadline = setTimeout(() => { timedOut = true; socket.destroy() }, deadlineMs)
  try {
    await once(socket, 'close')
    if (timedOut) throw new Error(`socket still open after ${deadlineMs} ms`)
    return { answer: Buffer.concat(chunks).toString('utf8'), afterMs: Date.now() - startedAt }
  } finally {
    clearInterval(ticker)
    clearTimeout(deadline)
  }
}

t.test('a body trickled one byte at a time gets the 408 envelope at LOOP_REQUEST_TIMEOUT_MS, and its socket closed', async (t) => {
  const app = await build(t, { LOOP_REQUEST_TIMEOUT_MS: '500' })
  const port = await listening(app)
  // The GitHub receiver reads the body without a key; the trickle never leaves the socket idle.
  const head = 'POST /api/signals/github HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{'
  const closed = await holdSocket(port, head, 10_000, { everyMs: 50, write: (socket) => socket.write(' ') })
  t.match(closed.answer, /^HTTP\/1\.1 408 /, closed.answer)
  const body = closed.answer.slice(closed.answer.indexOf('\r\n\r\n') + 4)
  t.same(JSON.parse(body), { ok: false, error: { code: 'REQUEST_TIMEOUT', message: 'The request was not received in time' } })
  // Node checks request deadlines on a timer (30 s unless told): Loop sets it from the timeout.
  t.ok(closed.afterMs >= 450 && closed.afterMs < 3000, `closed after ${closed.afterMs} ms`)
})

t.test('a connection that goes silent is closed at LOOP_CONNECTION_TIMEOUT_MS', async (t) => {
  const app = await build(t, { LOOP_REQUEST_TIMEOUT_MS: '60000', LOOP_CONNECTION_TIMEOUT_MS: '300' })
  const port = await listening(app)
  // Headers and the first byte of a body, then nothing: the request timeout is a minute away.
  const closed = await holdSocket(port, 'POST /api/signals/github HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 10\r\n\r\n{', 10_000)
  t.ok(closed.afterMs >= 250 && closed.afterMs < 3000, `closed after ${closed.afterMs} ms`)
})

t.test('the timeouts default to 30 s for a request and 60 s of silence', async (t) => {
  const app = await build(t)
  t.equal(app.server.requestTimeout, 30_000)
  t.equal(app.server.headersTimeout, 30_000, 'headers within the same 30 s')
  t.equal(app.server.timeout, 60_000)
})
