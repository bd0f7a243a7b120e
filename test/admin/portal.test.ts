// A brand's portal end to end, in Debian's Chromium: an admin makes Acme's portal link in the
// console; opened in a fresh browser context it shows Acme's endpoint, its deliveries and events
// with no key typed, lets the page register, edit, test and recover endpoints, and shows nothing
// of Globex (the other brand) anywhere on the page or in what the page fetched. The page works
// framed by an origin LOOP_PORTAL_FRAME_ANCESTORS lists, and not by another. An expired or unknown
// link gives a page that says so, at the start or when the link expires while open, and so does
// an open page whose links an admin ended from the console. Screenshots go to
// test/artifacts/portal-*.png (git-ignored).
import t from 'tap'
import http from 'node:http'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import type { AddressInfo } from 'node:net'
import { chromium, type Page } from 'playwright-core'
import { chromiumPath } from './chromium.ts'
import { authHeaders, buildWithDetails, type TestContext } from '../helper.ts'
import { createBrand } from '../../lib/keys/key-service.ts'
import { sql } from '../../lib/db/sql.ts'
import { eventually, startReceiver } from '../receiver.ts'
import { FAST_SCHEDULE, lead } from '../webhook-api.ts'

// Room for installing Chromium first on a machine without it (test/admin/chromium.ts).
t.setTimeout(300_000)

const artifacts = join(import.meta.dirname, '..', 'artifacts')
await mkdir(artifacts, { recursive: true })

/** An integrator's page that frames `src` (set later), on its own origin. */
async function startEmbedder (t: TestContext): Promise<{ origin: string, setSrc: (src: string) => void }> {
  let src = 'about:blank'
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' })
    res.end(`<!doctype html><title>Integrator</title><h1>Integrator's settings</h1><iframe title="Webhook portal" src="${src}" width="1200" height="800"></iframe>`)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()) }))
  return { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, setSrc: (next) => { src = next } }
}

const embedder = await startEmbedder(t)
const { app } = await buildWithDetails(t, { LOOP_ALLOW_PRIVATE_URLS: 'true', LOOP_DELIVERY_SCHEDULE: FAST_SCHEDULE, LOOP_PORTAL_FRAME_ANCESTORS: embedder.origin }, undefined, { deliveryWorker: { pollIntervalMs: 100 } })
await app.listen({ port: 0, host: '127.0.0.1' })
const port = (app.server.address() as AddressInfo).port
const base = `http://127.0.0.1:${port}`
const admin = await authHeaders(app, ['admin'])

async function api (method: string, path: string, headers: Record<string, string>, body?: unknown): Promise<Response> {
  return await fetch(`${base}${path}`, { method, headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, body: body === undefined ? undefined : JSON.stringify(body) })
}
async function created<T> (res: Response): Promise<T> {
  if (res.status >= 300) throw new Error(`${res.url}: ${res.status} ${await res.text()}`)
  return await res.json() as T
}

// Two brands, each with an endpoint, a declared event type and an event delivered to it.
const scopes = ['events:write', 'events:read', 'schemas:write', 'webhooks:manage'] as const
const acmeReceiver = await startReceiver(t)
const globexReceiver = await startReceiver(t)
const seed = async (name: string, receiverUrl: string, description: string, type: string) => {
  const { brand, key } = await createBrand(app.orm.em.fork(), { name, key: { scopes: [...scopes] } })
  const headers = { authorization: `Bearer ${key.secret}` }
  const endpoint = await created<{ id: string }>(await api('POST', '/api/webhooks', headers, { url: receiverUrl, events: ['lead.captured.v1', type], description }))
  await created(await api('POST', '/api/events/types', headers, { name: type, fields: { eventId: { type: 'string', required: true } } }))
  await created(await api('POST', '/api/events', headers, { event: 'lead.captured.v1', payload: lead() }))
  await created(await api('POST', '/api/events', headers, { event: type, payload: { eventId: `${name}-1` } }))
  return { brand, headers, endpoint }
}
const acme = await seed('Acme', acmeReceiver.url, 'Acme CRM sync', 'acme.signup.v1')
const globex = await seed('Globex', globexReceiver.url, 'Globex ERP feed', 'globex.order.v1')
await acmeReceiver.waitFor(2, 30_000)
await globexReceiver.waitFor(2, 30_000)

/** Everything of Globex a page could show: its name, its endpoint's id, URL and description, its event type. */
const globexTraces = ['Globex', globex.brand.id, globex.endpoint.id, globexReceiver.url, String(new URL(globexReceiver.url).port), 'globex.order.v1', 'Globex ERP feed']

const portalLink = async (brandId: string) => await created<{ id: string, url: string, expiresAt: string }>(await api('POST', `/api/brands/${brandId}/portal`, admin, {}))
const expire = async (linkId: string) => { await sql(app.orm.em.fork(), "update portal_token set expires_at = now() - interval '1 second' where id = ?", [linkId]) }

const browser = await chromium.launch({ executablePath: chromiumPath(), args: ['--no-sandbox'], headless: true })
t.teardown(() => browser.close())

interface Watched { page: Page, requests: { method: string, path: string, status: number }[], errors: string[] }
async function openPage (): Promise<Watched> {
  const context = await browser.newContext({ viewport: { width: 1300, height: 900 } })
  const page = await context.newPage()
  const watched: Watched = { page, requests: [], errors: [] }
  page.on('response', (response) => {
    const url = new URL(response.url())
    if (url.origin === base) watched.requests.push({ method: response.request().method(), path: url.pathname, status: response.status() })
  })
  page.on('pageerror', (error) => watched.errors.push(error.message))
  return watched
}
const shot = async (page: Page, name: string) => await page.screenshot({ path: join(artifacts, `portal-${name}.png`), fullPage: true })
const text = async (page: Page) => await page.locator('body').innerText()
/** The whole document, attributes and hidden parts (the event-type list, closed details) included. */
const html = async (page: Page) => await page.content()

/** The admin console, signed in with the admin key, on its Keys & brands view. */
async function adminOnBrands (): Promise<Page> {
  const { page } = await openPage()
  await page.goto(`${base}/admin/`)
  await page.getByLabel('API key').fill(admin.authorization?.replace('Bearer ', '') ?? '')
  await page.getByRole('button', { name: 'Sign in' }).click()
  await page.getByRole('link', { name: 'Keys & brands' }).click()
  return page
}

let consoleLink = ''
t.test('an admin makes Acme\'s link in the console, shown once', async (t) => {
  const page = await adminOnBrands()
  await page.getByRole('button', { name: 'Portal link for Acme' }).click()
  await page.getByRole('heading', { name: 'Portal link for Acme' }).waitFor()
  consoleLink = await page.getByTestId('secret').innerText()
  t.match(consoleLink, new RegExp(`^${base}/admin/portal#lp_[0-9A-Za-z]{40}$`))
  await page.context().close()
})

t.test('Acme\'s link opens Acme\'s endpoints, deliveries and events, no key typed, nothing of Globex', async (t) => {
  const [row] = await sql<{ id: string }>(app.orm.em.fork(), 'select id from portal_token where brand_id = ?', [acme.brand.id])
  const link = { id: row?.id ?? '', url: consoleLink }
  const { page, requests, errors } = await openPage()
  await page.goto(link.url)
  await page.getByRole('heading', { level: 1, name: 'Webhooks' }).waitFor()
  t.equal(new URL(page.url()).hash, '#/webhooks', 'the token left the address bar at once')
  t.equal(await page.getByLabel('API key').count(), 0, 'no key to type')
  const rows = page.getByTestId('endpoint-row')
  await rows.first().waitFor()
  t.equal(await rows.count(), 1, 'one endpoint: Acme\'s')
  t.match(await rows.first().innerText(), /Acme CRM sync/)
  t.match(await rows.first().innerText(), new RegExp(acmeReceiver.url.replace(/[.?*+^$[\]\\(){}|-]/g, '\\$&')))

  await page.getByRole('link', { name: `Delivery log of ${acmeReceiver.url}` }).click()
  await page.getByTestId('delivery-row').first().waitFor()
  t.equal(await page.getByTestId('delivery-row').count(), 2, 'both of Acme\'s deliveries')
  await page.getByRole('button', { name: 'Send test event' }).click()
  await eventually(async () => (await page.getByTestId('delivery-row').count()) === 3 || undefined, 15_000, 'the test delivery in the log')
  await page.getByRole('button', { name: 'Recover failed deliveries (14 days)' }).click()
  await page.getByTestId('recovered').waitFor()
  t.match(await page.getByTestId('recovered').innerText(), /^0 failed deliveries of the last 14 days re-queued$/, 'recover answers for Acme\'s endpoint (nothing failed)')
  await page.getByText('Edit this endpoint').click()
  await page.getByLabel('Description', { exact: true }).fill('Acme CRM sync (edited in the portal)')
  await page.getByRole('button', { name: 'Save' }).click()
  await page.getByText('Acme CRM sync (edited in the portal)').first().waitFor()
  await page.getByText('Add an endpoint').click()
  await page.getByLabel('URL', { exact: true }).first().fill(`${acmeReceiver.url}?second=1`)
  await page.getByLabel('Events', { exact: true }).first().fill('acme.signup.v1')
  await page.getByRole('button', { name: 'Add endpoint' }).click()
  await page.getByTestId('secret').waitFor()
  t.match(await page.getByTestId('secret').innerText(), /^whsec_/, 'the new endpoint\'s signing secret, shown once')
  await page.getByRole('button', { name: 'I have stored it' }).click()
  await eventually(async () => (await rows.count()) === 2 || undefined, 15_000, 'the new endpoint listed')
  await shot(page, 'brand')
  for (const trace of globexTraces) t.notOk((await html(page)).includes(trace), `no trace of Globex on the webhooks view (${trace})`)

  await page.getByRole('link', { name: 'Events' }).click()
  await page.getByRole('heading', { level: 1, name: 'Events' }).waitFor()
  await page.getByText('acme.signup.v1').first().waitFor()
  await page.getByText('Acme-1').first().waitFor()
  await shot(page, 'events')
  t.ok((await html(page)).includes('acme.signup.v1'), 'Acme\'s event type is offered')
  for (const trace of globexTraces) t.notOk((await html(page)).includes(trace), `no trace of Globex on the events view (${trace})`)
  t.equal(await page.getByRole('link', { name: 'Keys & brands' }).count(), 0, 'no admin views')

  const paths = [...new Set(requests.map((r) => `${r.method} ${r.path}`))]
  t.ok(paths.every((p) => /^(GET|POST|PATCH) \/(admin\/(portal|app\.js|app\.css)|api\/webhooks|api\/events)/.test(p)), `only the portal's files and the webhook and event API: ${paths.join(', ')}`)
  t.same(requests.filter((r) => r.status >= 400), [], 'nothing refused')
  for (const r of requests.filter((r) => r.path.startsWith('/api/'))) t.notOk(r.path.includes(globex.endpoint.id))
  t.same(errors, [], 'no script errors')

  // The link runs out while the page is open: the next poll says so, instead of a console that stopped.
  await page.getByRole('link', { name: 'Webhooks' }).click()
  await expire(link.id)
  await page.getByRole('heading', { name: 'This portal link has expired' }).waitFor({ timeout: 15_000 })
  t.equal(await page.getByTestId('endpoint-row').count(), 0, 'the console is gone')
  t.equal(await page.evaluate("sessionStorage.getItem('loop.portal.token')"), null, 'and so is the token')
})

t.test('an expired or unknown link gives a page that says so', async (t) => {
  const link = await portalLink(acme.brand.id)
  await expire(link.id)
  const { page } = await openPage()
  await page.goto(link.url)
  await page.getByRole('heading', { name: 'This portal link has expired' }).waitFor()
  t.match(await page.getByRole('alert').innerText(), /^This portal link expired at .*; ask for a new one$/)
  t.match(await text(page), /Ask the service that sent you here for a new link/)
  t.equal(await page.getByTestId('endpoint-row').count(), 0)
  t.equal(await page.getByLabel('API key').count(), 0, 'not the sign-in form either')
  await shot(page, 'expired')

  // Another link in the same tab is a new token: the page starts over with it.
  await page.goto(`${base}/admin/portal#lp_${'x'.repeat(40)}`)
  await page.getByRole('heading', { name: 'This portal link is not valid' }).waitFor()
  await page.goto('about:blank')
  await page.goto(`${base}/admin/portal`)
  await page.getByRole('heading', { name: 'This portal link is not valid' }).waitFor()
  t.match(await page.getByRole('alert').innerText(), /carries none/)
})

t.test('the portal works in an iframe of a listed origin, and in no other', async (t) => {
  const link = await portalLink(acme.brand.id)
  embedder.setSrc(link.url)
  const { page } = await openPage()
  await page.goto(embedder.origin)
  const frame = page.frameLocator('iframe')
  await frame.getByText('Acme CRM sync').first().waitFor()
  t.ok(await frame.getByTestId('endpoint-row').count() > 0, 'Acme\'s endpoints, inside the integrator\'s page')
  await shot(page, 'iframe')

  // Same page, other origin (localhost is not 127.0.0.1): Chromium refuses to frame the portal.
  const other = await portalLink(acme.brand.id)
  embedder.setSrc(other.url)
  const stranger = await openPage()
  await stranger.page.goto(embedder.origin.replace('127.0.0.1', 'localhost'))
  const blocked = await eventually(() => stranger.page.frames().find((f) => f !== stranger.page.mainFrame() && f.url().startsWith('chrome-error:')), 15_000, 'the frame to be refused')
  t.ok(blocked, 'the frame shows Chromium\'s error page, not the portal')
  t.equal(await stranger.page.frameLocator('iframe').getByTestId('endpoint-row').count(), 0)
})

t.test('an admin ends Acme\'s links from the console: an open portal page says its link ended, Globex\'s link still opens', async (t) => {
  const link = await portalLink(acme.brand.id)
  const globexLink = await portalLink(globex.brand.id)
  const portal = await openPage()
  await portal.page.goto(link.url)
  await portal.page.getByTestId('endpoint-row').first().waitFor()

  const page = await adminOnBrands()
  await page.getByRole('button', { name: 'End Acme\'s portal links' }).click()
  await page.getByRole('button', { name: 'Confirm end links' }).click()
  t.equal(await page.getByTestId('portal-ended').innerText(), 'Acme\'s portal links ended')
  await shot(page, 'ended')

  await portal.page.getByRole('heading', { name: 'This portal link has expired' }).waitFor({ timeout: 15_000 })
  t.equal(await portal.page.getByTestId('endpoint-row').count(), 0, 'the open page no longer shows Acme\'s endpoints')
  const other = await openPage()
  await other.page.goto(globexLink.url)
  await other.page.getByTestId('endpoint-row').first().waitFor()
  t.match(await text(other.page), /Globex ERP feed/, 'Globex\'s link still opens')
})
