// Every operation declares what the shared plugins can answer on it, whatever its handler does:
// the JSON body parser (plugins/json-body.ts: 400, 413, 415 on any method with a body), the
// conditional GET (plugins/conditional-get.ts: ETag on every 200 of a GET under /api, 304), the key
// guard and the rate limits (plugins/auth.ts, plugins/rate-limit.ts: 401, 429 with Retry-After,
// X-RateLimit-* on every answer once limited), the router (414 for an over-long path parameter) and
// the error handler (500, and 503 with Retry-After when the database is out of reach). A new
// operation without them fails here before a client meets them.
import t from 'tap'
import { loadContract, operationsOf, type JsonSchema } from '../../lib/contract/openapi.ts'
import { bearerRequirement } from '../../lib/keys/route-security.ts'
import { webhookPrefixes } from '../../plugins/rate-limit.ts'

const { document, deref } = await loadContract()
const paths = document.paths as Record<string, Record<string, { responses: Record<string, JsonSchema> }>>
const rateLimitHeaders = ['X-RateLimit-Limit', 'X-RateLimit-Remaining', 'X-RateLimit-Reset']

for (const op of operationsOf(document, deref)) {
  const label = `${op.method.toUpperCase()} ${op.path} (${op.operationId})`
  const responses = Object.fromEntries(Object.entries(paths[op.path]?.[op.method]?.responses ?? {}).map(([status, response]) => [status, deref(response)]))
  const headersOf = (status: string) => Object.keys((responses[status]?.headers ?? {}) as Record<string, unknown>)
  const bearer = bearerRequirement(op.security)
  const limitedPerIp = bearer === null && webhookPrefixes.some((prefix) => op.path.startsWith(prefix))

  t.test(`${label} declares the statuses the shared plugins send`, async (t) => {
    const declares = (status: string, headers: string[] = []) => {
      t.ok(responses[status] !== undefined, `declares ${status}`)
      for (const header of headers) t.ok(headersOf(status).includes(header), `declares ${header} on ${status}`)
    }
    declares('500')
    // Every operation but the liveness probe may find the database out of reach (lib/db/unreachable.ts).
    if (op.operationId !== 'getHealth') declares('503', op.operationId === 'getReady' ? [] : ['Retry-After'])
    if (op.method !== 'get') for (const status of ['400', '413', '415']) declares(status)
    if (op.method === 'get' && op.path.startsWith('/api/')) {
      declares('200', ['ETag'])
      declares('304', ['ETag', ...rateLimitHeaders])
    }
    if (/\{(?!path\})[^}]+\}/.test(op.path)) declares('414')
    if (bearer !== null) declares('401', ['WWW-Authenticate'])
    if (bearer !== null || limitedPerIp) {
      declares('429', ['Retry-After', ...rateLimitHeaders])
      // Once the key has authenticated (or on a receiver, from the first byte) every answer is limited.
      for (const status of Object.keys(responses).filter((s) => s !== '414' && !(bearer !== null && s === '401'))) {
        for (const header of rateLimitHeaders) t.ok(headersOf(status).includes(header), `declares ${header} on ${status}`)
      }
    }
  })
}

t.test('/mcp declares the 405 (with Allow) its GET and DELETE answer', async (t) => {
  for (const method of ['get', 'delete']) {
    const response = deref(paths['/mcp']?.[method]?.responses['405'] ?? {})
    t.ok(response.content !== undefined, `${method.toUpperCase()} /mcp declares 405`)
    t.ok(Object.keys((response.headers ?? {}) as Record<string, unknown>).includes('Allow'), `${method.toUpperCase()} /mcp declares Allow on 405`)
  }
})
