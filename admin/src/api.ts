// The console's only way to Loop: the SDK's typed client over the public REST API, with the API
// key kept in sessionStorage (gone when the tab closes). Also the polling hook the live views
// share: conditional GETs with If-None-Match, so an unchanged list costs a 304 and no body.
import { useCallback, useEffect, useRef, useState } from 'preact/hooks'
import { createClient, type LoopClient, type Schemas } from '../../packages/sdk/src/client.ts'

export type { LoopClient, Schemas }

const STORAGE_KEY = 'loop.admin.apiKey'
export const POLL_MS = 2000

export function storedKey (): string | null {
  try { return sessionStorage.getItem(STORAGE_KEY) } catch { return null }
}
export function storeKey (key: string): void { sessionStorage.setItem(STORAGE_KEY, key) }
export function forgetKey (): void { sessionStorage.removeItem(STORAGE_KEY) }

/**
 * A client for this Loop (the console is served by the instance it manages); 401 calls `onRejected`.
 * `credential` is an API key, or a portal token (`lp_…`), which the SDK does not take as a key:
 * it goes as the same Bearer header.
 */
export function clientFor (credential: string, onRejected: () => void): LoopClient {
  const sent = credential.startsWith('lp_') ? { headers: { authorization: `Bearer ${credential}` } } : { apiKey: credential }
  // Short retries: a view should show a failure in seconds, not after the documented ten minutes (docs/api.md#retries).
  const client = createClient({ baseUrl: window.location.origin, ...sent, retryDelaysMs: [500, 2000] })
  client.use({
    onResponse ({ response }) {
      if (response.status === 401) onRejected()
      return undefined
    }
  })
  return client
}

/** One line for a failed call: the envelope's code and message, or what went wrong on the way. */
export function describeError (error: unknown, response?: Response): string {
  const envelope = error as Partial<Schemas['Error']> | undefined
  if (envelope?.error?.message !== undefined) {
    const issues = envelope.error.issues?.map((issue) => `${issue.path === '' ? '(body)' : issue.path}: ${issue.message}`) ?? []
    return [`${envelope.error.code}: ${envelope.error.message}`, ...issues].join('; ')
  }
  if (response !== undefined) return `HTTP ${response.status} ${response.statusText}`
  return error instanceof Error ? error.message : String(error)
}

export interface Answer<T> { data?: T, error?: unknown, response: Response }

export interface Polled<T> {
  data: T | undefined
  error: string | undefined
  loading: boolean
  /** Fetch now (after a change made from the console), without waiting for the next poll. */
  refresh: () => void
}

/**
 * Loads with `load` now and every `intervalMs`, sending the last ETag as If-None-Match (and
 * bypassing the browser cache, so the 304 reaches us). `key` changes restart it from scratch.
 */
export function usePolled<T> (key: string, load: (init: { headers: Record<string, string>, cache: RequestCache }) => Promise<Answer<T>>, intervalMs: number | null = POLL_MS): Polled<T> {
  const [state, setState] = useState<{ data?: T, error?: string, loading: boolean }>({ loading: true })
  const etag = useRef<string | null>(null)
  const loadRef = useRef(load)
  loadRef.current = load
  const [tick, setTick] = useState(0)
  const refresh = useCallback(() => setTick((n) => n + 1), [])

  useEffect(() => {
    etag.current = null
    setState({ loading: true })
  }, [key])

  useEffect(() => {
    let stopped = false
    let timer: ReturnType<typeof setTimeout> | undefined
    const run = async () => {
      // A hidden tab skips its turn: nobody is looking, and the first poll after it shows again catches up.
      if (document.hidden && etag.current !== null) {
        if (intervalMs !== null) timer = setTimeout(() => { void run() }, intervalMs)
        return
      }
      try {
        const headers: Record<string, string> = etag.current === null ? {} : { 'if-none-match': etag.current }
        const { data, error, response } = await loadRef.current({ headers, cache: 'no-store' })
        if (stopped) return
        if (response.status === 304) {
          setState((s) => (s.error === undefined ? s : { ...s, error: undefined }))
        } else if (data !== undefined) {
          etag.current = response.headers.get('etag')
          setState({ data, loading: false })
        } else {
          setState((s) => ({ data: s.data, error: describeError(error, response), loading: false }))
        }
      } catch (error) {
        if (!stopped) setState((s) => ({ data: s.data, error: describeError(error), loading: false }))
      }
      if (!stopped && intervalMs !== null) timer = setTimeout(() => { void run() }, intervalMs)
    }
    void run()
    return () => { stopped = true; clearTimeout(timer) }
  }, [key, tick, intervalMs])

  return { data: state.data, error: state.error, loading: state.loading, refresh }
}
