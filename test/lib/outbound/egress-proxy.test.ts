import t from 'tap'
import http from 'node:http'
import https from 'node:https'
import net, { type AddressInfo } from 'node:net'
import { readFileSync } from 'node:fs'
import type { TestContext } from '../../helper.ts'
import { startReceiver, type ReceivedRequest } from '../../receiver.ts'
import { register, settledLog, startLoop } from '../../webhook-api.ts'
import { egressProxyAgents } from '../../../lib/outbound/egress-proxy.ts'
import { sendWebhook } from '../../../lib/outbound/send.ts'

interface ConnectProxy { url: string, connects: { target: string, headers: http.IncomingHttpHeaders }[] }

/** A CONNECT proxy on 127.0.0.1 that records every tunnel asked for, and answers `status` to each. */
async function startConnectProxy (t: TestContext, status = 200): Promise<ConnectProxy> {
  const connects: ConnectProxy['connects'] = []
  const sockets = new Set<net.Socket>()
  const server = http.createServer((_req, res) => { res.writeHead(405).end() })
  server.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    connects.push({ target: req.url ?? '', headers: req.headers })
    sockets.add(client)
    client.on('error', () => {})
    if (status !== 200) return client.end(`HTTP/1.1 ${status} Refused\r\nContent-Length: 0\r\n\r\n`)
    const url = new URL(`http://${req.url ?? ''}`)
    const upstream = net.connect(Number(url.port), url.hostname.replace(/^\[|\]$/g, ''), () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n')
      upstream.write(head)
      upstream.pipe(client)
      client.pipe(upstream)
    })
    sockets.add(upstream)
    upstream.on('error', () => client.destroy())
    client.on('close', () => upstream.destroy())
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(async () => {
    for (const socket of sockets) socket.destroy()
    server.closeAllConnections()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  })
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, connects }
}

const portOf = (url: string) => new URL(url).port
const agentsFor = (t: TestContext, proxy: string, allowPrivateUrls: boolean, tls?: https.AgentOptions) => {
  const agents = egressProxyAgents(new URL(proxy), { allowPrivateUrls, connectTimeoutMs: 5000, ...(tls !== undefined ? { tls } : {}) })
  t.teardown(() => { agents.http.destroy(); agents.https.destroy() })
  return agents
}
const send = (url: string, agents: ReturnType<typeof agentsFor>, allowPrivateUrls: boolean) =>
  sendWebhook(url, '{"id":"m1"}', { 'content-type': 'application/json' }, { allowPrivateUrls, agents, timeoutMs: 5000 })

t.test('with LOOP_EGRESS_PROXY a delivery goes through the proxy, which is asked for the address Loop resolved', async (t) => {
  const proxy = await startConnectProxy(t)
  const receiver = await startReceiver(t)
  const loop = await startLoop(t, { LOOP_EGRESS_PROXY: proxy.url })
  const port = portOf(receiver.url)
  const endpoint = await register(loop, `http://localhost:${port}/webhooks/loop`)
  const queued = await loop.app.inject({ method: 'POST', url: `/api/webhooks/${endpoint.id}/test`, headers: loop.key })
  t.equal(queued.statusCode, 202)
  const [request] = await receiver.waitFor(1)
  t.match(request as ReceivedRequest, { method: 'POST', path: '/webhooks/loop', headers: { host: `localhost:${port}`, 'x-loop-event': 'webhook.test' } })
  t.same(proxy.connects.map((c) => c.target), [`127.0.0.1:${port}`], 'one tunnel, to the checked address rather than the name')
  t.match((await settledLog(loop, endpoint.id))[0], { status: 'succeeded', attempts: [{ statusCode: 200 }] })
})

t.test('the SSRF guard judges the destination before the proxy is asked', async (t) => {
  const proxy = await startConnectProxy(t)
  const receiver = await startReceiver(t)
  const agents = agentsFor(t, proxy.url, false)
  const byName = await send(`http://localhost:${portOf(receiver.url)}/hook`, agents, false)
  t.match(byName, { statusCode: null, error: /^refused: (127\.0\.0\.1|::1) is a loopback address$/ }, 'a name resolving inside the network')
  const literal = await send('http://10.1.2.3/hook', agents, false)
  t.match(literal, { statusCode: null, error: 'refused: 10.1.2.3 is a private address' })
  const metadata = await send('https://169.254.169.254/latest/meta-data/', agents, false)
  t.match(metadata, { statusCode: null, error: /cloud metadata/ })
  t.same(proxy.connects, [], 'no tunnel was asked for')
  t.equal(receiver.requests.length, 0)
})

t.test("a proxy's credentials go to the proxy alone", async (t) => {
  const proxy = await startConnectProxy(t)
  const receiver = await startReceiver(t)
  const withCredentials = proxy.url.replace('http://', 'http://loop:s%40cret@')
  const result = await send(receiver.url, agentsFor(t, withCredentials, true), true)
  t.match(result, { statusCode: 200, error: null })
  t.equal(proxy.connects[0]?.headers['proxy-authorization'], `Basic ${Buffer.from('loop:s@cret').toString('base64')}`)
  t.notOk('proxy-authorization' in (receiver.requests[0]?.headers ?? {}), 'the receiver never sees them')
})

t.test('a proxy that refuses the tunnel, or is not there, fails the attempt with a reason', async (t) => {
  const refusing = await startConnectProxy(t, 403)
  const receiver = await startReceiver(t)
  const refused = await send(receiver.url, agentsFor(t, refusing.url, true), true)
  t.match(refused, { statusCode: null, error: `egress proxy answered 403 to CONNECT 127.0.0.1:${portOf(receiver.url)}` })
  const gone = await send(receiver.url, agentsFor(t, 'http://127.0.0.1:9', true), true)
  t.match(gone, { statusCode: null, error: /^egress proxy unreachable: ECONNREFUSED/ })
  t.equal(receiver.requests.length, 0)
})

t.test('https runs end to end inside the tunnel, the certificate checked against the URL host', async (t) => {
  const cert = readFileSync(new URL('../../fixtures/tls/localhost-cert.pem', import.meta.url))
  const key = readFileSync(new URL('../../fixtures/tls/localhost-key.pem', import.meta.url))
  const seen: string[] = []
  const server = https.createServer({ cert, key }, (req, res) => {
    seen.push(`${req.method ?? ''} ${req.headers.host ?? ''}`)
    req.resume()
    req.on('end', () => res.writeHead(204).end())
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(async () => {
    server.closeAllConnections()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  })
  const port = (server.address() as AddressInfo).port
  const proxy = await startConnectProxy(t)
  const agents = agentsFor(t, proxy.url, true, { ca: cert })
  const ok = await send(`https://localhost:${port}/hook`, agents, true)
  t.match(ok, { statusCode: 204, error: null })
  t.same(seen, [`POST localhost:${port}`])
  t.same(proxy.connects.map((c) => c.target), [`127.0.0.1:${port}`])
  const wrongName = await send(`https://127.0.0.1:${port}/hook`, agentsFor(t, proxy.url, true, { ca: cert }), true)
  t.match(wrongName, { statusCode: null, error: /ERR_TLS_CERT_ALTNAME_INVALID/ }, 'a certificate for another name is refused')
  t.equal(seen.length, 1)
})
