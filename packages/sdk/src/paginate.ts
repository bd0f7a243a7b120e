// loop.paginate: every item of a list, page after page. Every list answers
// `{ data, iterator, prevIterator, done }`; the next page is asked for with `iterator` until `done`.
import type { Client, HeadersOptions } from 'openapi-fetch'
import type { paths } from '../../../generated/openapi.ts'
import { LoopError } from './errors.ts'

type JsonBody<R> = R extends { content: { 'application/json': infer B } } ? B : never
type ListBody<P extends keyof paths> = paths[P] extends { get: { responses: { 200: infer R } } } ? JsonBody<R> : never
type GetParameters<P extends keyof paths> = paths[P] extends { get: { parameters: infer Q } } ? Q : never

/** The paths whose GET answers the list envelope: `'/api/issues' | '/api/signals' | …`. */
export type ListPath = {
  [P in keyof paths]: ListBody<P> extends { data: ReadonlyArray<unknown>, iterator: string | null, done: boolean } ? P : never
}[keyof paths]

/** One item of a list: `ListItem<'/api/issues'>` is an Issue. */
export type ListItem<P extends ListPath> = ListBody<P> extends { data: ReadonlyArray<infer T> } ? T : never

/** A list's filters (`status`, `limit`, …); `iterator` resumes from a page an earlier run saw. */
export type ListQuery<P extends ListPath> = NonNullable<GetParameters<P> extends { query?: infer Q } ? Q : never>

type ListPathParameters<P extends ListPath> = GetParameters<P> extends { path: infer T } ? T : never

export type PaginateOptions<P extends ListPath> = {
  query?: ListQuery<P> | undefined
  signal?: AbortSignal | undefined
  headers?: HeadersOptions | undefined
} & ([ListPathParameters<P>] extends [never] ? { path?: undefined } : { path: ListPathParameters<P> })

export type Paginate = <P extends ListPath>(
  path: P,
  ...options: [ListPathParameters<P>] extends [never] ? [options?: PaginateOptions<P>] : [options: PaginateOptions<P>]
) => AsyncGenerator<ListItem<P>, void, undefined>

interface Page { data: unknown[], iterator: string | null, done: boolean }

function isPage (body: unknown): body is Page {
  const page = body as Partial<Page> | null | undefined
  return Array.isArray(page?.data) && typeof page.done === 'boolean' && (page.iterator === null || typeof page.iterator === 'string')
}

type LooseGet = (path: string, init: Record<string, unknown>) => Promise<{ data?: unknown, error?: unknown, response: Response }>

/** `paginate` for a client; each page is one GET through it (so with its retries and timeout). */
export function paginator (client: Client<paths>): Paginate {
  const get = client.GET as unknown as LooseGet
  async function * paginate (path: string, options: { query?: Record<string, unknown>, path?: Record<string, unknown>, signal?: AbortSignal, headers?: HeadersOptions } = {}): AsyncGenerator<unknown, void, undefined> {
    let query = options.query
    for (;;) {
      const { data, error, response } = await get(path, {
        params: { query, path: options.path },
        ...(options.signal === undefined ? {} : { signal: options.signal }),
        ...(options.headers === undefined ? {} : { headers: options.headers })
      })
      if (error !== undefined) throw LoopError.from(error, response)
      if (!isPage(data)) throw new LoopError(response.status, 'UNEXPECTED_RESPONSE', `GET ${path} did not answer a list page ({data, iterator, prevIterator, done})`, [], response)
      yield * data.data
      if (data.done || data.iterator === null) return
      query = { ...query, iterator: data.iterator }
    }
  }
  return paginate as unknown as Paginate
}
