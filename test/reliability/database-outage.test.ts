// The database out of reach under a running Loop (docs/api.md#errors): Loop reaches PostgreSQL
// through a TCP proxy on 127.0.0.1 that the test can make refuse connections, or accept them and
// never answer (a host that drops packets). Every request then answers 503 NOT_READY with
// Retry-After within the pool's 5 s acquire timeout, never a 500, a 401 or a minute's hang; nothing
// refused is stored; the SDK's retry lands once the database is back; an outage is a few log lines.
import t, { type Test } from 'tap'
import net from 'node:net'
import { Writable } from 'node:stream'
import type { AddressInfo } from 'node:net'
import { createClient, type RetryInfo } from '@loop/sdk'
import { authHeaders, buildWithDetails, envelope } from '../helper.ts'
import { createTestDatabase } from '../database.ts'
import { lead } from '../webhook-api.ts'

interface Proxy {
  port: number
  /** Stops listening and cuts every connection: new ones are refused (ECONNREFUSED). */
  refuse: () => Promise<void>
  /** Cuts every connection and accepts new ones without ever passing a byte on. */
  blackHole: () => void
  /** Passes connections to PostgreSQL again. */
  restore: () => Promise<void>
}

async function startProxy (target: URL): Promise<Proxy> {
  let mode: 'open' | 'black hole' | 'refused' = 'open'
  const sockets = new Set<net.Socket>()
  const track = (socket: net.Socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => socket.destroy())
  }
  const server = net.createServer((client) => {
    track(client)
    if (mode !== 'open') return
    const upstream = net.connect(Number(target.port), target.hostname)
    track(upstream)
    client.pipe(upstream).pipe(client)
    client.on('close', () => upstream.destroy())
    upstream.on('close', () => client.destroy())
  })
  const listen = async (port: number) => await new Promise<number>((resolve) => server.listen(port, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)))
  const cut = () => { for (const socket of sockets) socket.destroy() }
  const port = await listen(0)
  t.teardown(() => { cut(); server.close() })
  return {
    port,
    refuse: async () => {
      mode = 'refused'
      const closed = new Promise<void>((resolve) => server.close(() => resolve()))
      cut()
      await closed
    },
    blackHole: () => { mode = 'black hole'; cut() },
    restore: async () => {
      if (mode === 'refused') await listen(port)
      mode = 'open'
    }
  }
}

const database = await createTestDatabase()
t.teardown(database.drop)
const proxy = await startProxy(new URL(database.url))
const proxied = new URL(database.url)
proxied.host = `127.0.0.1:${proxy.port}`
const lines: { msg: string, level: number, err?: { type?: string } }[] = []
const logStream = new Writable({ write (chunk, _encoding, done) { lines.push(JSON.parse(String(chunk)) as typeof lines[number]); done() } })
const { app } = await buildWithDetails(t, { LOG_LEVEL: 'warn', LOOP_METRICS_PUBLIC: 'true' }, undefined, { databaseUrl: proxied.toString(), logStream })
t.teardown(() => proxy.restore())
const address = await app.listen({ host: '127.0.0.1', port: 0 })

const key = await authHeaders(app, ['events:write', 'events:read'])
// Made now, used only during the outage: its lookup needs the database.
const unseen = await authHeaders(app, ['events:write', 'events:read'])
const send = async (headers: Record<string, string>) => await app.inject({ method: 'POST', url: '/api/events', headers, payload: { event: 'lead.captured.v1', payload: lead() } })
const stored = async () => (await app.inject({ method: 'GET', url: '/api/events?limit=100', headers: key })).json<{ data: unknown[] }>().data.length
let notReady = 0
const refusedWith503 = (t: Test, res: Awaited<ReturnType<typeof send>>, what: string) => {
  notReady++
  t.equal(res.statusCode, 503, `${what}: 503`)
  t.match(res.json(), envelope('NOT_READY'), `${what}: NOT_READY`)
  t.equal(res.headers['retry-after'], '2', `${what}: Retry-After`)
}

const notReadyProbe = async (t: Test) => {
  const ready = await app.inject({ method: 'GET', url: '/ready' })
  t.equal(ready.statusCode, 503, '/ready: 503')
  t.match(ready.json(), envelope('NOT_READY'))
}

t.test('before the outage an event is accepted', async (t) => {
  t.equal((await send(key)).statusCode, 200)
  t.equal(await stored(), 1)
})

t.test('a database that refuses connections: 503 NOT_READY with Retry-After on every route, /health still 200', async (t) => {
  await proxy.refuse()
  // A load balancer's probe notices first. (A request sent in the instant of the cut, on a
  // pooled connection not yet known to be dead, answers 500: on a connection that was working,
  // Loop cannot tell whether a statement ran.)
  await notReadyProbe(t)
  refusedWith503(t, await send(key), 'an event, known key')
  refusedWith503(t, await send(unseen), 'an event, a key not yet looked up')
  refusedWith503(t, await app.inject({ method: 'GET', url: '/api/events', headers: key }), 'a list')
  t.equal((await app.inject({ method: 'GET', url: '/health' })).statusCode, 200)
  await proxy.restore()
})

t.test('a database that never answers: 503 within the pool\'s acquire timeout, not a minute\'s hang', async (t) => {
  proxy.blackHole()
  await notReadyProbe(t)
  const started = Date.now()
  refusedWith503(t, await send(key), 'an event')
  const waited = Date.now() - started
  t.ok(waited < 15_000, `answered after ${waited} ms (the pool waits at most 5 s for a connection)`)
  await proxy.restore()
})

t.test('the SDK retries the 503 after Retry-After and lands once the database is back; nothing refused was stored', async (t) => {
  await proxy.refuse()
  const retries: RetryInfo[] = []
  const client = createClient({
    baseUrl: address,
    apiKey: key.authorization?.replace('Bearer ', ''),
    retryDelaysMs: [3000, 3000, 3000],
    onRetry: (retry) => {
      retries.push(retry)
      if (retries.length === 1) void proxy.restore()
    }
  })
  const { response } = await client.POST('/api/events', { body: { event: 'lead.captured.v1', payload: lead() } })
  t.equal(response.status, 200)
  t.equal(retries[0]?.status, 503, 'the first attempt was told 503')
  t.equal(retries[0]?.delayMs, 2000, 'and waited the Retry-After')
  notReady++
  t.equal(await stored(), 2, 'the first event and the SDK\'s: none of the refused ones')
})

t.test('the outage is counted in /metrics and logged in a few lines, with no stack per request', async (t) => {
  const metrics = (await app.inject({ method: 'GET', url: '/metrics' })).body
  const rejected = Number(/^loop_ingest_rejected_total\{kind="event",reason="NOT_READY"\} (\d+)$/m.exec(metrics)?.[1] ?? 0)
  t.equal(rejected, 4, 'the refused events: two while refused, one black-holed, the SDK\'s first try')
  const logged = lines.filter((line) => line.msg === 'not ready: answered 503')
  t.ok(logged.length >= 1 && logged.length < notReady, `${logged.length} lines for ${notReady} answers`)
  t.same(lines.filter((line) => line.msg === 'request failed'), [], 'no request logged as failed with a stack')
})
