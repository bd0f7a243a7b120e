// The client's transport: a fetch that gives each attempt a timeout and retries what failed on the
// way (network errors, timeouts, 5xx, 429) on the documented schedule (docs/api.md#retries), honouring Retry-After. A retry
// must never do twice what was asked once, so:
// - every POST under /api carries an Idempotency-Key, the same on every attempt: the caller's, the
//   payload's `eventId` for POST /api/events (docs/api.md#retries), or a fresh UUID per call;
// - GET, HEAD, OPTIONS, PUT, DELETE and keyed POSTs are retried on every such failure;
// - anything else (PATCH, POSTs outside /api) only when it surely was not processed: the
//   connection was refused, or the answer was 429 or 503 (Loop refusing or draining).

/** Seed 004's retry schedule: the waits before the 1st to 5th retry. */
export const defaultRetryDelaysMs: readonly number[] = [1_000, 5_000, 30_000, 120_000, 600_000]
/** How long one attempt may take (headers and body) unless `timeoutMs` says otherwise. */
export const defaultTimeoutMs = 30_000

/** What `onRetry` is told before each wait. */
export interface RetryInfo {
  /** 1 for the first retry. */
  attempt: number
  delayMs: number
  method: string
  url: string
  /** The status that is retried, or undefined after a network error or timeout. */
  status?: number | undefined
  error?: unknown
}

export interface RetryOptions {
  fetch: (request: Request, init?: RequestInit) => Promise<Response>
  timeoutMs: number
  delaysMs: readonly number[]
  onRetry?: ((retry: RetryInfo) => void) | undefined
}

const replayableMethods = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE'])
const nullBodyStatuses = new Set([101, 103, 204, 205, 304])
// Connection never made: the request cannot have reached Loop.
const neverSentCodes = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN'])
const maxIdempotencyKeyLength = 255

function retriedStatus (status: number): boolean {
  return status === 429 || (status >= 500 && status <= 599)
}

function neverSent (error: unknown): boolean {
  const cause = (error as { cause?: { code?: unknown } } | undefined)?.cause
  return typeof cause?.code === 'string' && neverSentCodes.has(cause.code)
}

/** Retry-After in milliseconds from now (delta-seconds or an HTTP date); undefined when absent or unreadable. */
export function retryAfterMs (value: string | null, now = Date.now()): number | undefined {
  if (value === null) return undefined
  const text = value.trim()
  if (/^\d+$/.test(text)) return Number(text) * 1000
  const at = Date.parse(text)
  return Number.isNaN(at) ? undefined : Math.max(0, at - now)
}

async function eventIdOf (request: Request): Promise<string | undefined> {
  try {
    const body = JSON.parse(await request.clone().text()) as { payload?: { eventId?: unknown } } | null
    const eventId = body?.payload?.eventId
    return typeof eventId === 'string' && eventId !== '' && eventId.length <= maxIdempotencyKeyLength ? eventId : undefined
  } catch {
    return undefined
  }
}

/**
 * A random UUID (v4). Not crypto.randomUUID: browsers offer it only to secure contexts, and the
 * admin console may be served over plain HTTP on a private address; getRandomValues is everywhere.
 */
function randomKey (): string {
  const bytes = globalThis.crypto.getRandomValues(new Uint8Array(16))
  bytes[6] = (bytes[6]! & 0x0f) | 0x40
  bytes[8] = (bytes[8]! & 0x3f) | 0x80
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}

/** The request with its Idempotency-Key when it is a POST under /api that has none. */
async function withIdempotencyKey (request: Request): Promise<Request> {
  if (request.method !== 'POST' || request.headers.has('idempotency-key')) return request
  const { pathname } = new URL(request.url)
  if (!pathname.includes('/api/')) return request
  const key = (pathname.endsWith('/api/events') ? await eventIdOf(request) : undefined) ?? randomKey()
  const headers = new Headers(request.headers)
  headers.set('idempotency-key', key)
  return new Request(request, { headers })
}

function sleep (ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) { reject(signal.reason); return }
    const onAbort = () => { clearTimeout(timer); reject(signal.reason) }
    const timer = setTimeout(() => { signal.removeEventListener('abort', onAbort); resolve() }, ms)
    signal.addEventListener('abort', onAbort, { once: true })
  })
}

/**
 * One attempt, within `timeoutMs` from sending to the last byte of the body (read here, so a
 * stalled body times out too). `caller` is the Request the call began with: its signal is the
 * caller's own, and it still aborts the attempt.
 *
 * Both signals are handed over directly, never through a Request made from another: such a
 * Request's signal stops following its source once the copy is garbage collected
 * (nodejs/undici#4068), which silently turned the timeout off under memory pressure.
 */
async function attempt (options: RetryOptions, request: Request, caller: Request, init: RequestInit | undefined): Promise<Response> {
  const controller = new AbortController()
  const onAbort = () => controller.abort(caller.signal.reason)
  if (caller.signal.aborted) onAbort()
  else caller.signal.addEventListener('abort', onAbort, { once: true })
  const timer = Number.isFinite(options.timeoutMs)
    ? setTimeout(() => controller.abort(new DOMException(`Loop did not answer ${request.method} ${request.url} within ${options.timeoutMs} ms`, 'TimeoutError')), options.timeoutMs)
    : undefined
  try {
    const response = await options.fetch(request, { ...init, signal: controller.signal })
    const body = nullBodyStatuses.has(response.status) || request.method === 'HEAD' ? null : await response.arrayBuffer()
    return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers })
  } catch (error) {
    // The timeout's own error rather than the fetch implementation's wrapping of the abort.
    throw controller.signal.aborted && !caller.signal.aborted ? controller.signal.reason : error
  } finally {
    clearTimeout(timer)
    caller.signal.removeEventListener('abort', onAbort)
  }
}

/** A fetch for openapi-fetch's `fetch` option that times out and retries as described above. */
export function retryingFetch (options: RetryOptions): (input: Request, init?: RequestInit) => Promise<Response> {
  const longestWait = Math.max(0, ...options.delaysMs)
  return async (input, init) => {
    const request = await withIdempotencyKey(input)
    const replayable = replayableMethods.has(request.method) || request.headers.has('idempotency-key')
    for (let retry = 0; ; retry++) {
      const delayMs = options.delaysMs[retry]
      const info = { attempt: retry + 1, method: request.method, url: request.url }
      let response: Response
      try {
        response = await attempt(options, request.clone(), input, init)
      } catch (error) {
        if (input.signal.aborted || delayMs === undefined || !(replayable || neverSent(error))) throw error
        options.onRetry?.({ ...info, delayMs, error })
        await sleep(delayMs, input.signal)
        continue
      }
      if (!retriedStatus(response.status) || delayMs === undefined) return response
      if (!replayable && response.status !== 429 && response.status !== 503) return response
      // Retry-After is the server's word: never sooner, and not at all when it is beyond the schedule.
      const wait = retryAfterMs(response.headers.get('retry-after')) ?? delayMs
      if (wait > longestWait) return response
      options.onRetry?.({ ...info, delayMs: wait, status: response.status })
      await sleep(wait, input.signal)
    }
  }
}
