// Every response, pages and API and errors alike, tells browsers not to sniff content types and
// not to send a Referer; each page keeps its own Content-Security-Policy.
import t from 'tap'
import { authHeaders, build } from '../helper.ts'

const app = await build(t)
const writer = await authHeaders(app, ['events:write'])

const routes: [method: 'GET' | 'POST', url: string, status: number, headers?: Record<string, string>, body?: string][] = [
  ['GET', '/health', 200],
  ['GET', '/ready', 200],
  ['GET', '/docs', 200],
  ['GET', '/docs/static/swagger-ui.css', 200],
  ['GET', '/openapi.json', 200],
  ['GET', '/admin', 301],
  ['GET', '/admin/', 200],
  ['GET', '/admin/app.js', 200],
  ['GET', '/api/events', 401],
  ['GET', '/api/no-such-route', 404],
  ['GET', '/no-such-page', 404],
  ['POST', '/api/events', 415, { ...writer, 'content-type': 'text/plain' }, 'hello'],
  ['POST', '/api/events', 400, { ...writer, 'content-type': 'application/json' }, '{"not json'],
  ['POST', '/mcp', 401, { 'content-type': 'application/json' }, '{}']
]

for (const [method, url, status, headers, body] of routes) {
  t.test(`${method} ${url} (${status}) carries nosniff and no-referrer`, async (t) => {
    const response = await app.inject({ method, url, headers, body })
    t.equal(response.statusCode, status, response.body.slice(0, 200))
    t.equal(response.headers['x-content-type-options'], 'nosniff')
    t.equal(response.headers['referrer-policy'], 'no-referrer')
  })
}

t.test('the pages keep their own Content-Security-Policy and the API gets none', async (t) => {
  const admin = await app.inject({ method: 'GET', url: '/admin/' })
  t.match(admin.headers['content-security-policy'], /default-src 'none'/)
  const docs = await app.inject({ method: 'GET', url: '/docs' })
  t.match(docs.headers['content-security-policy'], /script-src 'self'/)
  const health = await app.inject({ method: 'GET', url: '/health' })
  t.equal(health.headers['content-security-policy'], undefined)
})
