// Real webhook receivers for tests: node:http servers on 127.0.0.1 that record every request
// (raw body bytes and headers) and answer as the test says. No traffic goes anywhere else.
import http, { type IncomingHttpHeaders } from 'node:http'
import crypto from 'node:crypto'
import type { AddressInfo } from 'node:net'
import type { TestContext } from './helper.ts'

export interface ReceivedRequest {
  /** 1 for the first request this receiver got. */
  n: number
  method: string
  path: string
  headers: IncomingHttpHeaders
  /** The raw body bytes, as a receiver must verify them. */
  body: Buffer
  at: number
}

export interface Answer { status: number, body?: string, headers?: Record<string, string>, delayMs?: number }
export type Responder = (request: ReceivedRequest) => Answer | Promise<Answer>

export interface Receiver {
  url: string
  requests: ReceivedRequest[]
  /** Resolves once `count` requests have arrived (rejects after `timeoutMs`). */
  waitFor: (count: number, timeoutMs?: number) => Promise<ReceivedRequest[]>
  close: () => Promise<void>
}

export async function startReceiver (t: TestContext, respond: Responder = () => ({ status: 200, body: 'OK' })): Promise<Receiver> {
  const requests: ReceivedRequest[] = []
  const waiters: { count: number, resolve: () => void }[] = []
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      const received: ReceivedRequest = { n: requests.length + 1, method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks), at: Date.now() }
      requests.push(received)
      for (const waiter of waiters.filter((w) => requests.length >= w.count)) waiter.resolve()
      void Promise.resolve(respond(received)).then(async (answer) => {
        if (answer.delayMs !== undefined) await new Promise((r) => setTimeout(r, answer.delayMs))
        if (res.destroyed) return
        res.writeHead(answer.status, { 'content-type': 'text/plain', ...answer.headers })
        res.end(answer.body ?? '')
      })
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  let closed = false
  const close = async () => {
    if (closed) return
    closed = true
    server.closeAllConnections()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  }
  t.teardown(close)
  return {
    url: `http://127.0.0.1:${port}/webhooks/loop`,
    requests,
    close,
    waitFor: async (count, timeoutMs = 15_000) => {
      if (requests.length >= count) return requests
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`receiver got ${requests.length} of ${count} requests in ${timeoutMs} ms`)), timeoutMs)
        waiters.push({ count, resolve: () => { clearTimeout(timer); resolve() } })
      })
      return requests
    }
  }
}

/**
 * Seed 003's Express receiver, with node:http standing in for `express.raw()` (Express is not a
 * dependency): the same raw body bytes and the seed's exact signature check and answers.
 */
export function seedExpressReceiver (WEBHOOK_SECRET: string): Responder {
  return (req) => {
    const signature = req.headers['x-loop-signature'] as string
    const expected = crypto
      .createHmac('sha256', WEBHOOK_SECRET)
      .update(req.body)
      .digest('hex')

    if (signature !== expected) {
      return { status: 401, body: 'Invalid signature' }
    }

    const event = JSON.parse(req.body.toString())

    switch (event.type) {
      case 'biomarker.result.created':
        // Handle new biomarker result
        break
      case 'protocol.started':
        // Handle protocol start
        break
    }

    return { status: 200, body: 'OK' }
  }
}

/** Polls `check` until it returns a value other than undefined (or fails after `timeoutMs`). */
export async function eventually<T> (check: () => Promise<T | undefined> | T | undefined, timeoutMs = 15_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await check()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}
