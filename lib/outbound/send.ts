// One HTTP attempt of a delivery: POST the stored body with its signed headers and report what
// happened. node:http rather than fetch, for two reasons: its `lookup` hook lets the SSRF guard
// check the very address being dialled, and it never follows redirects (a 3xx is a failure).
import http from 'node:http'
import https from 'node:https'
import { isIP } from 'node:net'
import { assertPublicAddresses, BlockedDestinationError, publicOnlyLookup, urlHost, urlShapeProblem } from './ssrf.ts'
import { EgressProxyError } from './egress-proxy.ts'

/** Bytes of the response body kept for the delivery log. */
export const RESPONSE_BODY_LIMIT = 4096
/** An endpoint's attempt timeout unless it sets its own `timeoutMs` (1–30 s; docs/webhooks.md#delivery-schedule). */
export const DEFAULT_TIMEOUT_MS = 15_000
/** The longest timeout an endpoint may set, and so the longest an attempt takes (the delivery lease outlasts it). */
export const MAX_TIMEOUT_MS = 30_000

export interface SendResult {
  /** The status answered; null when no response came (timeout, network error, refused destination). */
  statusCode: number | null
  error: string | null
  /** The first 4 KB of the response body. */
  responseBody: string | null
  /** The response's Retry-After header, which a throttling answer's next attempt follows. */
  retryAfter?: string | null
  latencyMs: number
}

export interface SendOptions {
  timeoutMs?: number
  allowPrivateUrls: boolean
  /** Keep-alive agents owned by the caller (the worker), so close can destroy their sockets. */
  agents?: { http: http.Agent, https: https.Agent }
  /** Ends the attempt early, with no answer (the worker stopping); the timeout still applies. */
  signal?: AbortSignal
}

function describe (error: unknown, timeoutMs: number): string {
  if (error instanceof BlockedDestinationError) return `refused: ${error.message}`
  if (error instanceof EgressProxyError) return error.message
  const e = error as NodeJS.ErrnoException
  if (e.name === 'AbortError' || e.name === 'TimeoutError') return `timed out after ${timeoutMs} ms`
  if (e.code === 'ENOTFOUND' || e.code === 'EAI_AGAIN') return `host not found (${e.code})`
  if (e.code !== undefined) return `${e.code}: ${e.message}`
  return e.message ?? String(error)
}

// PostgreSQL text cannot hold NUL; a binary answer is kept readable, not rejected.
const toLogText = (chunks: Buffer[]) => Buffer.concat(chunks).subarray(0, RESPONSE_BODY_LIMIT).toString('utf8').replace(/\0/g, '\uFFFD')

export async function sendWebhook (urlText: string, body: string, headers: Record<string, string>, options: SendOptions): Promise<SendResult> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS
  const started = performance.now()
  const finish = (partial: Omit<SendResult, 'latencyMs'>): SendResult => ({ ...partial, latencyMs: Math.round(performance.now() - started) })
  const shape = urlShapeProblem(urlText)
  if (shape !== null) return finish({ statusCode: null, error: `refused: URL ${shape}`, responseBody: null })
  const url = new URL(urlText)
  if (!options.allowPrivateUrls && isIP(urlHost(url)) !== 0) {
    // A literal address is never looked up, so the connect-time guard would not see it.
    try {
      assertPublicAddresses([urlHost(url)])
    } catch (error) {
      return finish({ statusCode: null, error: describe(error, timeoutMs), responseBody: null })
    }
  }
  const secure = url.protocol === 'https:'
  const payload = Buffer.from(body, 'utf8')
  return await new Promise<SendResult>((resolve) => {
    let settled = false
    const settle = (result: Omit<SendResult, 'latencyMs'>) => {
      if (settled) return
      settled = true
      resolve(finish(result))
    }
    const request = (secure ? https : http).request(url, {
      method: 'POST',
      headers: { ...headers, 'content-length': String(payload.length) },
      signal: AbortSignal.timeout(timeoutMs),
      agent: secure ? options.agents?.https : options.agents?.http,
      ...(options.allowPrivateUrls ? {} : { lookup: publicOnlyLookup })
    }, (response) => {
      const statusCode = response.statusCode ?? null
      const chunks: Buffer[] = []
      let kept = 0
      const done = () => {
        const redirect = statusCode !== null && statusCode >= 300 && statusCode < 400
        settle({
          statusCode,
          error: redirect ? `redirect to ${response.headers.location ?? '(no location)'} not followed` : null,
          responseBody: toLogText(chunks),
          ...(response.headers['retry-after'] !== undefined ? { retryAfter: response.headers['retry-after'] } : {})
        })
      }
      response.on('data', (chunk: Buffer) => {
        if (kept >= RESPONSE_BODY_LIMIT) return
        chunks.push(chunk)
        kept += chunk.length
        // Enough for the log: stop reading rather than download an arbitrarily large answer.
        if (kept >= RESPONSE_BODY_LIMIT) {
          done()
          response.destroy()
        }
      })
      response.on('end', done)
      response.on('error', done)
      response.on('close', done)
    })
    request.on('error', (error) => settle({ statusCode: null, error: describe(error, timeoutMs), responseBody: null }))
    const abandon = () => request.destroy(new Error('abandoned: Loop stopped waiting for the receiver'))
    if (options.signal?.aborted === true) abandon()
    else options.signal?.addEventListener('abort', abandon, { once: true })
    request.once('close', () => options.signal?.removeEventListener('abort', abandon))
    request.end(payload)
  })
}
