// /admin serves the console's static files outside the API: no key, no rate limit, not in the
// OpenAPI document, and a Content-Security-Policy that lets the page talk to this origin only.
import t from 'tap'
import { build } from '../helper.ts'

const app = await build(t)

t.test('/admin redirects to /admin/, which serves the page with its CSP', async (t) => {
  const bare = await app.inject({ method: 'GET', url: '/admin' })
  t.equal(bare.statusCode, 301)
  t.equal(bare.headers.location, '/admin/')
  const page = await app.inject({ method: 'GET', url: '/admin/' })
  t.equal(page.statusCode, 200)
  t.match(page.headers['content-type'], /^text\/html/)
  t.match(page.body, /<script type="module" src="\.\/app\.js"><\/script>/)
  t.match(page.headers['content-security-policy'], /default-src 'none'/)
  t.match(page.headers['content-security-policy'], /connect-src 'self'/)
  t.equal(page.headers['cache-control'], 'no-cache')
  t.equal(page.headers['x-ratelimit-limit'], undefined, 'not rate limited like the API')
})

t.test('the bundle and stylesheet are served, and revalidate with 304', async (t) => {
  const js = await app.inject({ method: 'GET', url: '/admin/app.js' })
  t.equal(js.statusCode, 200)
  t.match(js.headers['content-type'], /javascript/)
  const css = await app.inject({ method: 'GET', url: '/admin/app.css' })
  t.equal(css.statusCode, 200)
  const again = await app.inject({ method: 'GET', url: '/admin/app.js', headers: { 'if-none-match': js.headers.etag as string } })
  t.equal(again.statusCode, 304)
})

t.test('unknown files are the JSON 404 and dotfiles are not served', async (t) => {
  const missing = await app.inject({ method: 'GET', url: '/admin/nope.js' })
  t.equal(missing.statusCode, 404)
  t.equal(missing.json().error.code, 'NOT_FOUND')
  const escape = await app.inject({ method: 'GET', url: '/admin/../package.json' })
  t.not(escape.statusCode, 200)
})

t.test('the console is no part of the API document', async (t) => {
  const document = (await app.inject({ method: 'GET', url: '/openapi.json' })).json() as { paths: Record<string, unknown> }
  t.notOk(Object.keys(document.paths).some((path) => path.startsWith('/admin')))
})
