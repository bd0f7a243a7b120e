// The admin console end to end: a real listening Loop on its own database, driven by Debian's
// Chromium through playwright-core. It signs in, reads the board and a signal's payload, sees a
// new issue arrive without a reload, reads signals, events and a 422 rejection's issues, follows
// a failing endpoint's delivery log and redelivers, creates and revokes a key. Every request the
// page makes is recorded: besides its own /admin files, only public operations of the API.
// Screenshots of each view go to test/artifacts/ (git-ignored). No Chromium is a failure, not a skip.
import t from 'tap'
import { createHmac } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { parse } from 'yaml'
import { chromium, type Page } from 'playwright-core'
import { chromiumPath } from './chromium.ts'
import { artifacts, listeningConsole } from './console-app.ts'
import { testSecrets } from '../helper.ts'
import { sql } from '../../lib/db/sql.ts'
import { startReceiver, eventually } from '../receiver.ts'
import { dependabotAlert, failedWorkflowRun } from '../fixtures/provider-deliveries.ts'
import { lead } from '../webhook-api.ts'

// Room for installing Chromium first on a machine without it (test/admin/chromium.ts).
t.setTimeout(300_000)

const { app, base, adminKey, api } = await listeningConsole(t)

async function postGithub (event: string, payload: unknown): Promise<{ issueId: string }> {
  const body = JSON.stringify(payload)
  const res = await fetch(`${base}/api/signals/github`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-github-event': event,
      'x-github-delivery': crypto.randomUUID(),
      'x-hub-signature-256': `sha256=${createHmac('sha256', testSecrets.GITHUB_WEBHOOK_SECRET).update(body).digest('hex')}`
    },
    body
  })
  if (res.status !== 201) throw new Error(`github: ${res.status} ${await res.text()}`)
  return await res.json() as { issueId: string }
}

// Seeds, all through the public HTTP surface: a signal and its issue; an endpoint whose receiver
// answers 500 until told otherwise, so its first delivery fails every retry; a stored event;
// and an inbound delivery rejected with 422.
await postGithub('dependabot_alert', dependabotAlert('high'))

let receiverStatus = 500
const receiver = await startReceiver(t, () => ({ status: receiverStatus, body: receiverStatus === 200 ? 'OK' : 'down for maintenance' }))
const endpoint = await (await api('POST', '/api/webhooks', { url: receiver.url, events: ['lead.captured.v1'], description: 'CRM sync' })).json() as { id: string }
const sent = await api('POST', '/api/events', { event: 'lead.captured.v1', payload: lead() })
if (sent.status !== 200) throw new Error(`event: ${sent.status} ${await sent.text()}`)
await eventually(async () => {
  const status = (await (await api('GET', `/api/webhooks/${endpoint.id}`)).json() as { status: string }).status
  return status === 'failing' ? status : undefined
}, 30_000, 'the endpoint to be marked failing')

const routeSecret = 'acme-signup-secret'
const declared = await api('POST', '/api/events/types', {
  name: 'acme.signup.v1',
  fields: { eventId: { type: 'string', required: true }, email: { type: 'email', required: true } },
  source: 'custom',
  webhookPath: '/webhooks/acme/signup',
  secret: routeSecret,
  transform: { eventId: '$.id', email: '$.user.mail' }
})
if (declared.status !== 201) throw new Error(`declare: ${declared.status} ${await declared.text()}`)
const rejectedBody = JSON.stringify({ id: 'evt_1', user: { email: 'b@acme.dev' } })
const rejected = await fetch(`${base}/webhooks/acme/signup`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-loop-signature': createHmac('sha256', routeSecret).update(rejectedBody).digest('hex') }, body: rejectedBody })
if (rejected.status !== 422) throw new Error(`inbound: expected 422, got ${rejected.status}`)

// The browser. Launch failures propagate: the test fails when Chromium is missing.
const browser = await chromium.launch({ executablePath: chromiumPath(), args: ['--no-sandbox'], headless: true })
t.teardown(() => browser.close())
const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } })
await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base })
const page = await context.newPage()

interface Recorded { method: string, path: string, status?: number }
const requests: Recorded[] = []
page.on('request', (request) => { requests.push({ method: request.method(), path: new URL(request.url()).pathname }) })
const statuses: Recorded[] = []
page.on('response', (response) => { statuses.push({ method: response.request().method(), path: new URL(response.url()).pathname, status: response.status() }) })
const pageErrors: string[] = []
page.on('pageerror', (error) => pageErrors.push(error.message))
page.on('console', (message) => { if (message.type() === 'error') pageErrors.push(message.text()) })

const shot = (name: string) => page.screenshot({ path: join(artifacts, `admin-${name}.png`), fullPage: true })
const announcer = (page: Page) => page.getByTestId('announcer')
// page.evaluate takes expressions as strings here: they run in the page, and this tsconfig has no DOM types.

t.test('signing in: a wrong key is refused, a real one opens the console', async (t) => {
  await page.goto(`${base}/admin`)
  t.equal(new URL(page.url()).pathname, '/admin/', '/admin redirects to /admin/')
  await page.getByLabel('API key').fill('lk_live_thisKeyDoesNotExistAnywhere0000000000')
  await page.getByRole('button', { name: 'Sign in' }).click()
  await page.getByText('Loop refused this key').waitFor()
  await shot('sign-in')
  await page.getByLabel('API key').fill(adminKey)
  await page.getByRole('button', { name: 'Sign in' }).click()
  await page.getByRole('heading', { level: 1, name: 'Issues' }).waitFor()
  t.equal(await page.evaluate("sessionStorage.getItem('loop.admin.apiKey')"), adminKey, 'the key lives in session storage')
})

t.test('keyboard: the skip link comes first, then the views in order', async (t) => {
  // A reload starts focus at the top of the document; the key in session storage keeps us signed in.
  await page.reload()
  await page.getByRole('heading', { level: 1, name: 'Issues' }).waitFor()
  await page.keyboard.press('Tab')
  t.equal(await page.evaluate('document.activeElement?.textContent'), 'Skip to content')
  t.equal(await page.evaluate('getComputedStyle(document.activeElement).outlineStyle'), 'solid', 'focus is visible')
  await page.keyboard.press('Tab')
  t.equal(await page.evaluate('document.activeElement?.textContent'), 'Issues')
  await page.keyboard.press('Tab')
  t.equal(await page.evaluate('document.activeElement?.textContent'), 'Signals')
})

t.test('the board shows the seeded issue by status with priority and claim, and its signal payload', async (t) => {
  const triage = page.locator('section[data-status="triage"]')
  const card = triage.getByTestId('issue-card').filter({ hasText: 'dependabot alert: lodash' })
  await card.waitFor()
  t.match(await card.textContent(), /P2/)
  t.match(await card.textContent(), /unclaimed/)
  await card.click()
  const payload = page.getByLabel('Signal payload')
  await payload.waitFor()
  t.match(await payload.textContent(), /GHSA-jf85-cpcp-j695/)
  t.match(await page.locator('.panel').textContent(), /severity\s*high/)
  await shot('issues')
  await page.getByLabel('Move to').selectOption('todo')
  await page.getByRole('button', { name: 'Update status' }).click()
  await page.locator('section[data-status="todo"]').getByTestId('issue-card').filter({ hasText: 'dependabot alert: lodash' }).waitFor()
})

t.test('a new issue appears on the board without a reload, and is announced', async (t) => {
  await page.evaluate('window.stayed = true')
  await postGithub('workflow_run', failedWorkflowRun('main'))
  const card = page.locator('section[data-status="triage"]').getByTestId('issue-card').filter({ hasText: /workflow/i })
  await card.waitFor({ timeout: 15_000 })
  await eventually(async () => /New issue #\d+: GitHub/.test(await announcer(page).textContent() ?? '') ? true : undefined, 10_000, 'the announcement')
  // An agent claims the most urgent issue over the API: the board shows who has it.
  const claimed = await api('POST', '/api/issues/claim', { agent: 'claude-code@ci' })
  t.equal(claimed.status, 200)
  await page.locator('section[data-status="in_progress"]').getByTestId('issue-card').filter({ hasText: 'claimed by claude-code@ci' }).waitFor({ timeout: 15_000 })
  t.equal(await page.evaluate('window.stayed'), true, 'same page: no reload')
  await shot('issues-live')
  await eventually(() => statuses.some((r) => r.path === '/api/issues' && r.status === 304) ? true : undefined, 10_000, 'a 304 poll')
  t.pass('unchanged polls are answered 304 (If-None-Match with the last ETag)')
})

t.test('signals list with source and severity', async (t) => {
  await page.getByRole('link', { name: 'Signals' }).click()
  const rows = page.getByTestId('signal-row')
  await rows.first().waitFor()
  t.equal(await rows.count(), 3, 'two from GitHub, one Loop raised for the failing endpoint')
  t.match(await rows.first().textContent(), /github/)
  t.match(await page.locator('table').textContent(), /high/)
  await shot('signals')
  await page.getByLabel('Source').selectOption('loop')
  await eventually(async () => await rows.count() === 1 ? true : undefined, 10_000, 'the filter')
  await rows.first().getByRole('button', { name: 'Show payload' }).click()
  await page.getByLabel('Signal payload').waitFor()
  await shot('signals-filtered')
})

t.test('events with filters, and the 422 rejection with its issues', async (t) => {
  await page.getByRole('link', { name: 'Events' }).click()
  const events = page.getByTestId('event-row')
  await events.first().waitFor()
  t.match(await events.first().textContent(), /lead\.captured\.v1/)
  const rejection = page.getByTestId('rejection-row').first()
  await rejection.waitFor()
  t.match(await rejection.textContent(), /acme\.signup\.v1/)
  t.match(await rejection.textContent(), /email: Required \(required\)/)
  t.match(await rejection.textContent(), /\/webhooks\/acme\/signup/)
  await shot('events')
  await page.getByLabel('Event type').fill('no.such.event.v1')
  await page.getByRole('button', { name: 'Apply filters' }).click()
  await page.getByText('No events match these filters.').waitFor()
  await page.getByText('No rejected deliveries for no.such.event.v1').waitFor()
  await page.getByRole('button', { name: 'Clear' }).click()
  await events.first().waitFor()
})

t.test('a failing endpoint, its delivery log, and a redelivery that succeeds', async (t) => {
  await page.getByRole('link', { name: 'Webhooks', exact: true }).click()
  const row = page.getByTestId('endpoint-row').filter({ hasText: receiver.url })
  await row.waitFor()
  t.match(await row.textContent(), /failing/)
  await row.getByRole('link', { name: /Delivery log/ }).click()
  const delivery = page.getByTestId('delivery-row').first()
  await delivery.waitFor()
  t.equal(await delivery.getAttribute('data-status'), 'failed')
  t.match(await delivery.textContent(), /lead\.captured\.v1/)
  t.match(await delivery.textContent(), /500/)
  await shot('webhooks')
  const attemptsBefore = receiver.requests.length
  receiverStatus = 200
  await delivery.getByRole('button', { name: /Redeliver/ }).click()
  await page.locator('[data-testid="delivery-row"][data-status="succeeded"]').waitFor({ timeout: 15_000 })
  t.ok(receiver.requests.length > attemptsBefore, 'the receiver got the redelivery')
  await row.filter({ hasText: 'active' }).waitFor({ timeout: 15_000 })

  // A delivery made while the log is open shows up on its own, and is announced.
  const again = await api('POST', '/api/events', { event: 'lead.captured.v1', payload: lead() })
  t.equal(again.status, 200)
  await page.locator('[data-testid="delivery-row"][data-status="succeeded"]').nth(1).waitFor({ timeout: 15_000 })
  await eventually(async () => /new delivery/.test(await announcer(page).textContent() ?? '') || /succeeded/.test(await announcer(page).textContent() ?? '') ? true : undefined, 10_000, 'the delivery announcement')
  await shot('webhooks-redelivered')
})

t.test('Recover re-queues the failed deliveries of the last 14 days, and they succeed', async (t) => {
  // The delivery log of the endpoint is still open from the test above.
  receiverStatus = 500
  const sent = await api('POST', '/api/events', { event: 'lead.captured.v1', payload: lead() })
  t.equal(sent.status, 200)
  const eventId = (await sent.json() as { id: string }).id
  const failed = page.locator('[data-testid="delivery-row"][data-status="failed"]')
  await failed.first().waitFor({ timeout: 15_000 })
  const succeededBefore = await page.locator('[data-testid="delivery-row"][data-status="succeeded"]').count()
  const ofEvent = () => receiver.requests.filter((r) => (JSON.parse(r.body.toString()) as { id: string }).id === eventId).length
  const triedBefore = ofEvent()
  receiverStatus = 200
  await page.getByRole('button', { name: 'Recover failed deliveries (14 days)' }).click()
  const said = page.getByTestId('recovered')
  await said.waitFor({ timeout: 10_000 })
  t.equal(await said.textContent(), '1 failed delivery of the last 14 days re-queued', 'the panel says how many were re-queued (and announces it)')
  await page.locator('[data-testid="delivery-row"][data-status="succeeded"]').nth(succeededBefore).waitFor({ timeout: 15_000 })
  t.equal(await failed.count(), 0, 'nothing failed is left in the log')
  t.equal(ofEvent(), triedBefore + 1, 'the recovered delivery reached the receiver once more')
  await shot('webhooks-recovered')
})

t.test('an endpoint the circuit breaker paused says until when', async (t) => {
  const paused = await (await api('POST', '/api/webhooks', { url: `${receiver.url}/paused`, events: ['lead.captured.v1'], description: 'paused one' })).json() as { id: string }
  // The state the breaker leaves after failed attempts in a row (lib/outbound/queue.ts), an hour long here.
  await sql(app.orm.em.fork(), "update webhook_endpoint set consecutive_failures = 5, paused_until = now() + interval '1 hour' where id = ?", [paused.id])
  const row = page.getByTestId('endpoint-row').filter({ hasText: 'paused one' })
  await row.getByTestId('endpoint-paused').waitFor({ timeout: 15_000 })
  t.match(await row.textContent(), /paused until .*its attempts kept failing/)
  t.notOk(await page.getByTestId('endpoint-row').filter({ hasText: 'CRM sync' }).getByTestId('endpoint-paused').isVisible(), 'the healthy endpoint shows no pause')
  await shot('webhooks-paused')
})

t.test('keys: create one (secret shown once, copyable), then revoke it', async (t) => {
  await page.getByRole('link', { name: 'Keys & brands' }).click()
  await page.getByTestId('key-row').first().waitFor()
  await page.getByLabel('Name', { exact: true }).fill('console e2e key')
  await page.getByRole('button', { name: 'Create key' }).click()
  const secretCode = page.getByTestId('secret')
  await secretCode.waitFor()
  const secret = (await secretCode.textContent()) ?? ''
  t.match(secret, /^lk_live_[A-Za-z0-9]{32,}$/)
  t.equal((await api('GET', '/api/issues', undefined, { authorization: `Bearer ${secret}` })).status, 200, 'the new key works')
  await page.getByRole('button', { name: 'Copy secret' }).click()
  await page.getByRole('button', { name: 'Copied' }).waitFor()
  t.equal(await page.evaluate('navigator.clipboard.readText()'), secret, 'the copy button put the secret on the clipboard')
  await shot('keys-secret')
  await page.getByRole('button', { name: 'I have stored it' }).click()
  t.notOk((await page.content()).includes(secret), 'the secret is gone from the page once dismissed')

  const row = page.locator('[data-testid="key-row"][data-key-name="console e2e key"]')
  await row.waitFor()
  await row.getByRole('button', { name: /Revoke key console e2e key/ }).click()
  await row.getByRole('button', { name: 'Confirm revoke' }).click()
  await row.getByText('revoked').waitFor()
  t.equal((await api('GET', '/api/issues', undefined, { authorization: `Bearer ${secret}` })).status, 401, 'the revoked key is refused')
  await shot('keys')
})

t.test('brands: create one with its first key, secret shown once', async (t) => {
  await page.getByLabel('Brand name').fill('Acme Health')
  await page.getByRole('button', { name: 'Create brand' }).click()
  await page.getByRole('heading', { name: /Brand "Acme Health" created/ }).waitFor()
  t.match(await page.getByTestId('secret').textContent(), /^lk_live_/)
  await page.getByRole('button', { name: 'I have stored it' }).click()
  const row = page.locator('[data-testid="brand-row"][data-brand-name="Acme Health"]')
  await row.waitFor()
  t.equal((await row.locator('td').nth(2).textContent())?.trim(), '1', 'the new brand is listed with its one active key')
  t.ok(await page.getByRole('option', { name: /^Acme Health \(/ }).count() > 0, 'and can be picked for a new key')
  await page.screenshot({ path: join(artifacts, 'admin-brands.png'), fullPage: true })
})

t.test('a key without admin sees the error state on Keys; a revoked session key signs the console out', async (t) => {
  await page.getByRole('button', { name: 'Sign out' }).click()
  t.equal(await page.evaluate("sessionStorage.getItem('loop.admin.apiKey')"), null, 'signing out forgets the key')
  const created = await (await api('POST', '/api/keys', { name: 'reader', env: 'live', scopes: ['issues:read'] })).json() as { id: string, secret: string }
  await page.getByLabel('API key').fill(created.secret)
  await page.getByRole('button', { name: 'Sign in' }).click()
  // Still on #/keys, where this key may not look.
  await page.getByRole('heading', { level: 1, name: 'Keys & brands' }).waitFor()
  const refused = page.getByRole('alert').filter({ hasText: 'FORBIDDEN' })
  await refused.nth(1).waitFor()
  t.equal(await refused.count(), 2, 'both the keys and the brands list show the error state')
  await page.getByRole('button', { name: 'Try again' }).first().waitFor()
  await shot('keys-forbidden')
  await page.getByRole('link', { name: 'Issues' }).click()
  await page.getByTestId('issue-card').first().waitFor()
  t.equal((await api('DELETE', `/api/keys/${created.id}`)).status, 204)
  await page.getByText('Loop no longer accepts this key').waitFor({ timeout: 15_000 })
  await page.getByLabel('API key').waitFor()
})

t.test('the page called only public operations of the API, and nothing failed in it', async (t) => {
  const document = parse(await readFile(join(import.meta.dirname, '..', '..', 'openapi', 'loop.yaml'), 'utf8')) as { paths: Record<string, Record<string, unknown>> }
  const operations = Object.entries(document.paths).flatMap(([path, item]) => Object.keys(item)
    .filter((method) => ['get', 'post', 'patch', 'put', 'delete'].includes(method))
    .map((method) => ({ method: method.toUpperCase(), pattern: new RegExp(`^${path.replace(/\{[^}]+\}/g, '[^/]+')}$`) })))
  const statics = new Set(['/admin', '/admin/', '/admin/app.js', '/admin/app.css'])
  const offContract = requests.filter((r) => !statics.has(r.path) && !(r.path.startsWith('/api/') && operations.some((o) => o.method === r.method && o.pattern.test(r.path))))
  t.same(offContract, [], 'every request is an /admin file or a documented /api operation')
  const used = new Set(requests.filter((r) => r.path.startsWith('/api/')).map((r) => `${r.method} ${r.path.replace(/[0-9a-f-]{36}/g, '{id}')}`))
  for (const expected of ['GET /api/issues', 'GET /api/issues/{id}', 'GET /api/signals', 'GET /api/events', 'GET /api/events/rejections', 'GET /api/webhooks', 'GET /api/webhooks/{id}/deliveries', 'POST /api/webhooks/{id}/deliveries/{id}/retry', 'POST /api/webhooks/{id}/recover', 'POST /api/keys', 'GET /api/keys', 'DELETE /api/keys/{id}', 'POST /api/brands', 'GET /api/brands']) {
    t.ok(used.has(expected), expected)
  }
  t.same(pageErrors.filter((message) => !/status of 40[13]|status of 304/.test(message)), [], 'no script errors in the page')
})
