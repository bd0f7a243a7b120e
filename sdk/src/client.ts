// The typed REST client: openapi-fetch over the types openapi-typescript generates from
// openapi/loop.yaml, with the API key sent as `Authorization: Bearer`. Browser-safe (the admin
// console bundles this file); everything Node-only lives in index.ts's other modules.
import createFetchClient, { type Client, type ClientOptions } from 'openapi-fetch'
import type { components, operations, paths } from '../../generated/openapi.ts'

export type { components, operations, paths }

/** Every schema of the API by name, e.g. `Schemas['Issue']`. */
export type Schemas = components['schemas']
/** The JSON error envelope every non-2xx answer carries (SPEC section 3). */
export type ErrorEnvelope = components['schemas']['Error']

export interface LoopClientOptions extends Omit<ClientOptions, 'baseUrl'> {
  /** Where Loop listens, e.g. `http://localhost:3000` (no trailing `/api`). */
  baseUrl: string
  /** An `lk_live_…`, `lk_test_…` or `lk_dev_…` key; omit it for public operations only. */
  apiKey?: string
}

export type LoopClient = Client<paths>

/**
 * A client for every operation in Loop's OpenAPI document, typed path by path:
 * `const { data, error } = await loop.GET('/api/issues', { params: { query: { status: 'todo' } } })`.
 */
export function createClient (options: LoopClientOptions): LoopClient {
  const { baseUrl, apiKey, headers, ...rest } = options
  if (typeof baseUrl !== 'string' || baseUrl === '') throw new TypeError('createClient: baseUrl is required')
  if (apiKey !== undefined && !/^lk_(live|test|dev)_/.test(apiKey)) {
    throw new TypeError('createClient: apiKey must be a Loop key (lk_live_…, lk_test_… or lk_dev_…)')
  }
  const auth: Record<string, string> = apiKey === undefined ? {} : { authorization: `Bearer ${apiKey}` }
  return createFetchClient<paths>({
    ...rest,
    baseUrl: baseUrl.replace(/\/+$/, ''),
    headers: { ...auth, ...(headers as Record<string, string> | undefined) }
  })
}
