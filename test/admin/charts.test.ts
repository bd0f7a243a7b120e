// The console's charts end to end: a real listening Loop delivering to a real receiver on
// 127.0.0.1 (one endpoint healthy, one failing each message's first attempt), driven by Debian's
// Chromium. It signs in, opens the overview (light and dark) and an endpoint's panel, and finds
// uPlot's canvases drawn from those deliveries; then searches events by payload text, opens a
// delivery's payload, copies it and resends it to its endpoint. Screenshots go to test/artifacts/.
import t from 'tap'
import { join } from 'node:path'
import { chromium, type Page } from 'playwright-core'
import { chromiumPath } from './chromium.ts'
import { artifacts, listeningConsole } from './console-app.ts'
import { eventually, startReceiver } from '../receiver.ts'
import { lead } from '../webhook-api.ts'

t.setTimeout(300_000)

const { base, adminKey, api } = await listeningConsole(t)

// Real deliveries: a healthy receiver, and one that answers 503 to each message's first attempt.
const healthy = await startReceiver(t)
const tried = new Set<string>()
const flaky = await startReceiver(t, (request) => {
  const id = request.headers['webhook-id'] as string
  if (tried.has(id)) return { status: 200, body: 'OK' }
  tried.add(id)
  return { status: 503, body: 'warming up' }
})
const endpoint = await (await api('POST', '/api/webhooks', { url: healthy.url, events: ['lead.captured.v1'], description: 'CRM sync' })).json() as { id: string }
await api('POST', '/api/webhooks', { url: flaky.url, events: ['lead.captured.v1'], description: 'flaky one' })
const sent = 5
for (let i = 0; i < sent; i++) {
  const res = await api('POST', '/api/events', { event: 'lead.captured.v1', payload: lead({ email: `charts${i}@example.com` }) })
  if (res.status !== 200) throw new Error(`event: ${res.status} ${await res.text()}`)
}
await healthy.waitFor(sent)
await flaky.waitFor(2 * sent)
// Recorded, not only received: every delivery settled in the log.
await eventually(async () => {
  const log = await (await api('GET', `/api/webhooks/${endpoint.id}/deliveries`)).json() as { data: { status: string }[] }
  return log.data.length === sent && log.data.every((d) => d.status === 'succeeded') ? true : undefined
}, 20_000, 'the deliveries to settle')

const browser = await chromium.launch({ executablePath: chromiumPath(), args: ['--no-sandbox'], headless: true })
t.teardown(() => browser.close())
const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } })
await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base })
const page = await context.newPage()
const used = new Set<string>()
page.on('request', (request) => {
  const url = new URL(request.url())
  if (url.pathname.startsWith('/api/')) used.add(`${request.method()} ${url.pathname.replace(/[0-9a-f-]{36}/g, '{id}')}`)
})
const pageErrors: string[] = []
page.on('pageerror', (error) => pageErrors.push(error.message))
page.on('console', (message) => { if (message.type() === 'error') pageErrors.push(message.text()) })

/** A chart drawn: its canvas is there and it drew at least one value. */
async function drawn (page: Page, id: string): Promise<number> {
  const chart = page.locator(`[data-chart="${id}"]`)
  await chart.locator('canvas').first().waitFor({ timeout: 15_000 })
  return Number(await chart.getAttribute('data-points'))
}

t.test('signing in and opening the overview: every chart is drawn from the deliveries made', async (t) => {
  await page.goto(`${base}/admin/`)
  await page.getByLabel('API key').fill(adminKey)
  await page.getByRole('button', { name: 'Sign in' }).click()
  await page.getByRole('heading', { level: 1, name: 'Issues' }).waitFor()
  await page.getByRole('link', { name: 'Overview' }).click()
  await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor()
  for (const id of ['chart-ingest', 'chart-success', 'chart-attempts']) t.ok(await drawn(page, id) > 0, `${id} has values`)
  t.match(await page.locator('[data-chart="chart-ingest"] .chart-summary').textContent(), /Events per minute: latest \d+, highest [1-9]/, 'the ingest chart says its figures in words')
  t.match(await page.locator('[data-chart="chart-success"] .chart-summary').textContent(), /Success rate: latest/)
  t.equal(await page.locator('[data-chart="chart-ingest"] [role="img"]').getAttribute('aria-describedby'), 'chart-ingest-summary', 'the canvas is described by its summary')
  t.match(await page.getByTestId('queue-now').textContent(), /Queue now: 0 pending, 0 due/)
  await page.locator('[data-chart="chart-queue"], [data-chart="chart-oldest"]').first().waitFor()
  await page.screenshot({ path: join(artifacts, 'console-overview.png'), fullPage: true })

  await page.getByRole('button', { name: 'Last day' }).click()
  await eventually(async () => await page.getByRole('button', { name: 'Last day' }).getAttribute('aria-pressed') === 'true' ? true : undefined, 5000, 'the toggle')
  t.ok(await drawn(page, 'chart-ingest') > 0, 'the last day is drawn too')
  t.match(await page.locator('[data-chart="chart-ingest"] .chart-summary').textContent(), /per 24 minutes/)
  await page.getByRole('button', { name: 'Last hour' }).click()
})

t.test('the overview in the dark theme takes the theme\'s colours', async (t) => {
  const light = await page.evaluate("getComputedStyle(document.documentElement).getPropertyValue('--chart-1').trim()")
  await page.emulateMedia({ colorScheme: 'dark' })
  await eventually(async () => await page.evaluate("getComputedStyle(document.documentElement).getPropertyValue('--chart-1').trim()") !== light ? true : undefined, 5000, 'the dark palette')
  t.ok(await drawn(page, 'chart-ingest') > 0, 'redrawn in the dark theme')
  t.not(await page.evaluate("getComputedStyle(document.body).backgroundColor"), 'rgb(255, 255, 255)', 'the page is dark')
  await page.screenshot({ path: join(artifacts, 'console-overview-dark.png'), fullPage: true })
  await page.emulateMedia({ colorScheme: 'light' })
})

t.test('an endpoint\'s panel: success rate, latency p50/p95 and the attempts histogram', async (t) => {
  await page.getByRole('link', { name: 'Webhooks', exact: true }).click()
  const row = page.getByTestId('endpoint-row').filter({ hasText: 'flaky one' })
  await row.getByRole('link', { name: /Delivery log/ }).click()
  await page.getByTestId('endpoint-charts').waitFor()
  for (const id of ['chart-endpoint-success', 'chart-endpoint-latency', 'chart-endpoint-attempts']) t.ok(await drawn(page, id) > 0, `${id} has values`)
  t.match(await page.locator('[data-chart="chart-endpoint-latency"] .chart-summary').textContent(), /p50: latest \d+ ms.*p95: latest \d+ ms/)
  t.match(await page.locator('[data-chart="chart-endpoint-success"] .chart-summary').textContent(), /Success rate: latest 50\.0%/, 'one 503 and one 200 per message')
  t.match(await page.locator('[data-chart="chart-endpoint-attempts"] .chart-summary').textContent(), /2 attempts: 5 succeeded/, 'five deliveries took two attempts')
  await page.locator('[data-testid="delivery-row"][data-status="succeeded"]').nth(sent - 1).waitFor()
  await page.screenshot({ path: join(artifacts, 'console-endpoint-charts.png'), fullPage: true })
})

t.test('the delivery log filters by status; the payload viewer copies the body and resends it', async (t) => {
  await page.getByLabel('Status').selectOption('failed')
  await page.getByText('No failed deliveries to this endpoint.').waitFor()
  await page.getByLabel('Status').selectOption('')
  const first = page.getByTestId('delivery-row').first()
  await first.waitFor()
  await first.getByRole('button', { name: /View payload/ }).click()
  const body = page.getByTestId('payload-body')
  await body.waitFor()
  t.match(await body.textContent(), /"type": "lead.captured.v1"/)
  await page.getByRole('button', { name: 'Copy payload' }).click()
  await page.getByRole('button', { name: 'Copied' }).waitFor()
  const copied = await page.evaluate('navigator.clipboard.readText()') as string
  t.ok(flaky.requests.some((r) => r.body.toString() === copied), 'the clipboard holds exactly the body the receiver got')
  const before = flaky.requests.length
  await page.getByRole('button', { name: 'Resend to this endpoint' }).click()
  await flaky.waitFor(before + 1)
  t.equal(flaky.requests.at(-1)?.body.toString(), copied, 'the same body, sent again')
  await page.screenshot({ path: join(artifacts, 'console-payload.png'), fullPage: true })
})

t.test('a delivery waiting for its retry shows in the queue depth and the oldest wait', async (t) => {
  // A receiver that asks for its retry in an hour: the test message stays pending, scheduled.
  const busy = await startReceiver(t, () => ({ status: 503, body: 'busy', headers: { 'retry-after': '3600' } }))
  const backlog = await (await api('POST', '/api/webhooks', { url: busy.url, events: ['lead.captured.v1'], description: 'busy one' })).json() as { id: string }
  t.equal((await api('POST', `/api/webhooks/${backlog.id}/test`, {})).status, 202)
  await busy.waitFor(1)
  await eventually(async () => {
    const log = await (await api('GET', `/api/webhooks/${backlog.id}/deliveries`)).json() as { data: { status: string, attemptCount: number }[] }
    return log.data[0]?.status === 'pending' && log.data[0].attemptCount === 1 ? true : undefined
  }, 20_000, 'the first attempt to be recorded')
  await page.getByRole('link', { name: 'Overview' }).click()
  await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor()
  await eventually(async () => /Queue now: 1 pending, 0 due/.test(await page.getByTestId('queue-now').textContent() ?? '') ? true : undefined, 15_000, 'the pending delivery in the queue')
  t.ok(await drawn(page, 'chart-queue') > 0, 'the queue depth is drawn')
  t.match(await page.locator('[data-chart="chart-queue"] .chart-summary').textContent(), /Queued deliveries: latest 1,/, 'one delivery queued now')
  t.ok(await drawn(page, 'chart-oldest') > 0, 'the oldest wait is drawn')
  t.match(await page.locator('[data-chart="chart-oldest"] .chart-summary').textContent(), /Oldest queued: latest \d/)
  await page.screenshot({ path: join(artifacts, 'console-overview-backlog.png'), fullPage: true })
  // Taken back out of the queue, so the endpoint's retry does not outlive the test.
  t.equal((await api('PATCH', `/api/webhooks/${backlog.id}`, { status: 'disabled' })).status, 200)
})

t.test('events are searched by payload text', async (t) => {
  await page.getByRole('link', { name: 'Events' }).click()
  await page.getByTestId('event-row').first().waitFor()
  await page.getByLabel('Payload contains').fill('CHARTS3@example')
  await page.getByRole('button', { name: 'Apply filters' }).click()
  await eventually(async () => await page.getByTestId('event-row').count() === 1 ? true : undefined, 10_000, 'the search')
  t.match(await page.getByTestId('event-row').first().textContent(), /lead\.captured\.v1/)
  await page.getByTestId('event-row').first().getByText('Payload', { exact: true }).click()
  t.match(await page.getByLabel('Payload of lead.captured.v1').textContent(), /charts3@example\.com/)
  for (const expected of ['GET /api/stats/overview', 'GET /api/webhooks/{id}/stats', 'GET /api/webhooks/{id}/deliveries/{id}', 'POST /api/webhooks/{id}/deliveries/{id}/retry', 'GET /api/events']) {
    t.ok(used.has(expected), `the console called ${expected}`)
  }
  t.same(pageErrors.filter((message) => !/status of 40[13]|status of 304/.test(message)), [], 'no script errors in the page')
})
