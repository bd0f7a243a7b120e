// The typed REST client: openapi-fetch over the types openapi-typescript generates from
// openapi/loop.yaml, with the API key sent as `Authorization: Bearer`, a timeout per attempt,
// retries on the documented schedule (docs/api.md#retries) (retry.ts) and `paginate` over every list (paginate.ts).
// Web APIs only (fetch, AbortController, crypto.getRandomValues): Node ≥ 20, Deno, Bun, Workers, browsers.
import * as openapiFetch from 'openapi-fetch'
import type { Client, ClientOptions } from 'openapi-fetch'
import type { components, operations, paths } from '../../../generated/openapi.ts'
import { paginator, type Paginate } from './paginate.ts'
import { defaultRetryDelaysMs, defaultTimeoutMs, retryingFetch, type RetryInfo } from './retry.ts'

export type { components, operations, paths }

// openapi-fetch's CommonJS build puts createClient on `exports.default`; the CommonJS bundle of this
// (ESM) source takes module.exports as the default import, Node's rule, so it is one level down there.
const createFetchClient: typeof openapiFetch.default = typeof openapiFetch.default === 'function'
  ? openapiFetch.default
  : (openapiFetch.default as unknown as { default: typeof openapiFetch.default }).default

/** Every schema of the API by name, e.g. `Schemas['Issue']`. */
export type Schemas = components['schemas']
/** The JSON error envelope every non-2xx answer carries. */
export type ErrorEnvelope = components['schemas']['Error']

export interface LoopClientOptions extends Omit<ClientOptions, 'baseUrl' | 'fetch'> {
  /** Where Loop listens, e.g. `http://localhost:3000` (no trailing `/api`). */
  baseUrl: string
  /** An `lk_live_…`, `lk_test_…` or `lk_dev_…` key; omit it for public operations only. */
  apiKey?: string | undefined
  /** How long one attempt may take, headers and body, in ms (default 30 000; `Infinity` for no limit). */
  timeoutMs?: number | undefined
  /**
   * The waits before each retry, in ms: docs/api.md#retries' 1 s, 5 s, 30 s, 2 min, 10 min by default; `[]`
   * never retries. A Retry-After answer replaces the wait (and one longer than the longest wait
   * is not retried: the answer is returned).
   */
  retryDelaysMs?: readonly number[] | undefined
  /** Told before each wait, e.g. to log it. */
  onRetry?: ((retry: RetryInfo) => void) | undefined
  /** The fetch to send with (default `globalThis.fetch`). */
  fetch?: ((request: Request, init?: RequestInit) => Promise<Response>) | undefined
}

export type LoopClient = Client<paths> & {
  /**
   * Every item of a list, fetching page after page as you iterate:
   * `for await (const issue of loop.paginate('/api/issues', { query: { status: ['todo'] } }))`.
   * A failed page throws a LoopError (after the client's retries).
   */
  paginate: Paginate
}

/**
 * A client for every operation in Loop's OpenAPI document, typed path by path:
 * `const { data, error } = await loop.GET('/api/issues', { params: { query: { status: ['todo'] } } })`.
 * Errors arrive as the envelope in `error` (`error.error.code`); a network failure that outlasts
 * the retries throws (a TimeoutError DOMException when the last attempt timed out).
 */
export function createClient (options: LoopClientOptions): LoopClient {
  const { baseUrl, apiKey, headers, timeoutMs = defaultTimeoutMs, retryDelaysMs = defaultRetryDelaysMs, onRetry, fetch, ...rest } = options
  if (typeof baseUrl !== 'string' || baseUrl === '') throw new TypeError('createClient: baseUrl is required')
  if (apiKey !== undefined && !/^lk_(live|test|dev)_/.test(apiKey)) {
    throw new TypeError('createClient: apiKey must be a Loop key (lk_live_…, lk_test_… or lk_dev_…)')
  }
  if (!(timeoutMs > 0)) throw new TypeError('createClient: timeoutMs must be a positive number of milliseconds')
  if (!Array.isArray(retryDelaysMs) || retryDelaysMs.some((delay) => !(Number.isFinite(delay) && delay >= 0))) {
    throw new TypeError('createClient: retryDelaysMs must be a list of waits in milliseconds')
  }
  const client = createFetchClient<paths>({
    ...rest,
    baseUrl: baseUrl.replace(/\/+$/, ''),
    headers: openapiFetch.mergeHeaders(apiKey === undefined ? undefined : { authorization: `Bearer ${apiKey}` }, headers),
    fetch: retryingFetch({
      fetch: fetch ?? ((request, init) => globalThis.fetch(request, init)),
      timeoutMs,
      delaysMs: [...retryDelaysMs],
      onRetry
    })
  })
  return Object.assign(client, { paginate: paginator(client) })
}
