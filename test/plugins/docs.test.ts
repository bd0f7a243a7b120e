// /docs "Try it out" works wherever Loop is served: a real listening Loop on a random port, Debian's
// Chromium (through playwright-core) opens /docs at two origins (127.0.0.1 and a plain-http host
// name, where an `upgrade-insecure-requests` policy would send the calls to https), executes
// GET /health and reads a 200 from that same origin, with no Content Security Policy violation.
// No Chromium is a failure, not a skip (test/admin/chromium.ts installs it).
import t from 'tap'
import type { AddressInfo } from 'node:net'
import { chromium } from 'playwright-core'
import { chromiumPath } from '../admin/chromium.ts'
import { build } from '../helper.ts'

// Room for installing Chromium first on a machine without it.
t.setTimeout(300_000)

const app = await build(t)
await app.listen({ port: 0, host: '127.0.0.1' })
const port = (app.server.address() as AddressInfo).port

// `loop.test` resolves to 127.0.0.1 inside this browser only.
const browser = await chromium.launch({
  executablePath: chromiumPath(),
  args: ['--no-sandbox', '--host-resolver-rules=MAP loop.test 127.0.0.1'],
  headless: true
})
t.teardown(() => browser.close())

t.test('the contract names no host: its one server is the relative /', async (t) => {
  const document = (await app.inject({ method: 'GET', url: '/openapi.json' })).json()
  t.same(document.servers.map((server: { url: string }) => server.url), ['/'])
})

t.test('the /docs policy lets the page call its own origin and nothing else', async (t) => {
  const res = await app.inject({ method: 'GET', url: '/docs' })
  t.equal(res.statusCode, 200)
  const policy = String(res.headers['content-security-policy'])
  t.match(policy, /(^|; )connect-src 'self'(;|$)/)
  t.match(policy, /(^|; )default-src 'none'(;|$)/)
  t.notMatch(policy, /upgrade-insecure-requests|https:|unsafe-/)
})

for (const base of [`http://127.0.0.1:${port}`, `http://loop.test:${port}`]) {
  t.test(`Try it out on GET /health from ${base}/docs answers 200 from ${base}`, async (t) => {
    const context = await browser.newContext()
    t.teardown(() => context.close())
    const page = await context.newPage()
    const problems: string[] = []
    page.on('pageerror', (error) => problems.push(error.message))
    // Chromium also logs an error that it ignores Cross-Origin-Opener-Policy on a plain-http origin
    // other than localhost; that header is the app-wide security headers', not this page's policy.
    page.on('console', (message) => { if (message.type() === 'error' && !message.text().includes('Cross-Origin-Opener-Policy')) problems.push(message.text()) })

    await page.goto(`${base}/docs`)
    const operation = page.locator('#operations-operations-getHealth')
    await operation.locator('.opblock-summary').click()
    // "Try it out" is on from the start (tryItOutEnabled): the form shows Cancel, not Try it out.
    await operation.getByRole('button', { name: 'Cancel' }).waitFor()
    const answered = page.waitForResponse((response) => new URL(response.url()).pathname === '/health')
    await operation.getByRole('button', { name: 'Execute' }).click()
    const response = await answered
    t.equal(new URL(response.url()).origin, base, 'the call went to the page\'s own origin')
    t.equal(response.status(), 200)

    // What the page renders: the request URL it built and the live response's status and body.
    t.equal(await operation.locator('.request-url pre').textContent(), `${base}/health`)
    const live = operation.locator('.live-responses-table .response')
    await live.first().waitFor()
    t.equal((await live.locator('.response-col_status').first().textContent())?.trim(), '200')
    t.match(await live.locator('.response-col_description').first().textContent(), /"status": "alive"/)
    t.same(problems, [], 'no CSP violation or other error in the page')
  })
}
