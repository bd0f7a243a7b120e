// `npm run bench` (docs/operations.md#measured-figures): every path integrators and providers load,
// in one run on one machine, against
// - bare Fastify (bench/bare-server.ts): a JSON POST, the baseline of every write path, and a GET
//   of a 20-item list, the baseline of GET /api/events: what HTTP alone costs;
// - a raw-PostgreSQL reference (bench/reference-server.ts): one BEGIN/INSERT/COMMIT per request on
//   a pool of 10: what one durable transaction per request costs.
// Loop's paths: signed GitHub signals, POST /api/events (lead.captured.v1 over 8 premium keys of 4
// brands), the same for 4 brands with one subscribed endpoint each (delivered to
// bench/receiver-server.ts), a signed Shopify inbound webhook, and GET /api/events?limit=20.
// Every server is a child process on 127.0.0.1. Loop and the reference each get a fresh database,
// in an embedded PostgreSQL the bench starts in a temporary directory, or on DATABASE_URL's server
// when it is set (dropped afterwards). autocannon drives each path in turn from this process, every
// write unique (its own ids, body and signature), so each one is stored.
// Then the outbound side (bench/delivery.ts): a backlog of deliveries drained to a local receiver,
// against a bare undici client sending the same signed requests, and the first attempt's delay
// after the commit.
// Tunable: BENCH_DURATION (s, default 10), BENCH_CONNECTIONS (50), BENCH_WARMUP (s, 2),
// REFERENCE_POOL_SIZE (10), BENCH_DELIVERIES (20000), BENCH_DELIVERY_ENDPOINTS (16); BENCH_ONLY
// (comma-separated words: only the Loop paths whose names hold one, "delivery" for the delivery
// figures; the baselines always run); BENCH_LOOP_NODE_ARGS (extra node flags for Loop alone, e.g.
// `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile it). Loop reads its LOOP_* settings from the
// environment as usual.
import autocannon, { type Request, type Result } from 'autocannon'
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes, randomUUID } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import { loadConfig, type Config } from '../lib/config.ts'
import { startEmbeddedPostgres } from '../lib/db/embedded-postgres.ts'
import { migrate, openOrm } from '../lib/db/orm.ts'
import { generateApiKey } from '../lib/keys/api-key.ts'
import { createPremiumKeys, declareShopifyRoute, subscribeEachBrand } from './loop-tenants.ts'
import { githubPush, leadCaptured, listEvents, roundRobin, shopifyOrderCreated } from './requests.ts'
import { measureDelivery, type DeliveryFigures } from './delivery.ts'

const root = fileURLToPath(new URL('..', import.meta.url))

function setting (name: string, fallback: number): number {
  const value = Number(process.env[name] ?? fallback)
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number`)
  return value
}

const duration = setting('BENCH_DURATION', 10)
const connections = Math.round(setting('BENCH_CONNECTIONS', 50))
const warmup = setting('BENCH_WARMUP', 2)
const githubSecret = randomBytes(24).toString('hex')
const shopifySecret = randomBytes(24).toString('hex')
const shopifyPath = '/webhooks/shopify/bench-orders'
const adminKey = generateApiKey('live').secret

/** Issue 16's targets: shares of bare Fastify, p99 bounds, and a multiple of the raw-pg reference for every Loop path. */
const ofReference = 2
/** Issue 17's delivery targets: the drain against bare undici, and the median first attempt after the commit. */
const ofBareDelivery = 0.5
const firstAttemptP50Ms = 50
/** A path whose non-2xx answers or errors exceed this share of its requests fails: a 429 storm is not throughput. */
const maxRefusedShare = 0.01

const children: ChildProcess[] = []
/** Each started server's process id, by the URL it listens on (bench/cpu.ts reads their CPU time). */
const pids = new Map<string, number>()

/** Spawns a server and resolves with the URL it prints, which must be on 127.0.0.1. */
async function startServer (script: string, env: NodeJS.ProcessEnv, banner: RegExp, nodeArgs: string[] = []): Promise<string> {
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', script], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] })
  children.push(child)
  let output = ''
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${script} did not start within 120 s:\n${output}`)), 120_000)
    const onData = (chunk: Buffer) => {
      output += chunk.toString()
      const match = banner.exec(output)
      if (match?.[1] !== undefined) { clearTimeout(timer); resolve(match[1]) }
    }
    child.stdout?.on('data', onData)
    child.stderr?.on('data', onData)
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`${script} exited with ${code}:\n${output}`)) })
  })
  if (new URL(url).hostname !== '127.0.0.1') throw new Error(`${script} listens on ${url}; the bench only sends traffic to 127.0.0.1`)
  if (child.pid !== undefined) pids.set(url, child.pid)
  return url
}

async function stopAll (): Promise<void> {
  await Promise.all(children.map(async (child) => {
    if (child.exitCode !== null || child.signalCode !== null) return
    const exited = new Promise((resolve) => child.once('exit', resolve))
    child.kill('SIGTERM')
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000)
    await exited
    clearTimeout(timer)
  }))
}

async function drive (url: string, next: () => Request, seconds: number): Promise<Result> {
  return await autocannon({ url, connections, duration: seconds, timeout: 30, requests: [{ setupRequest: () => next() }] })
}

async function measure (url: string, next: () => Request): Promise<Result> {
  await drive(url, next, warmup)
  return await drive(url, next, duration)
}

/** Fresh databases on the PostgreSQL server of `serverUrl`, and a function that drops them again. */
async function createDatabases (serverUrl: string, names: string[]): Promise<{ urls: string[], drop: () => Promise<void> }> {
  const onServer = async (statements: string[]) => {
    const admin = new pg.Client({ connectionString: serverUrl })
    await admin.connect()
    try {
      for (const statement of statements) await admin.query(statement)
    } finally {
      await admin.end()
    }
  }
  await onServer(names.map((name) => `create database ${name}`))
  const urls = names.map((name) => { const url = new URL(serverUrl); url.pathname = `/${name}`; return url.toString() })
  return { urls, drop: async () => { await onServer(names.map((name) => `drop database if exists ${name} with (force)`)) } }
}

/** What Loop stored, so a 2xx is seen to mean a row: signals, and events by source. */
// The write paths fill Loop's tables in seconds; autovacuum analyses a table within about a
// minute of that (autovacuum_naptime), and until then the planner believes the event table holds
// a handful of rows and reads a whole brand's events to sort them. The bench analyses once before
// the read path, where a running Loop's autovacuum would have.
async function analyze (databaseUrl: string): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl })
  await client.connect()
  try {
    await client.query('analyze')
  } finally {
    await client.end()
  }
}

async function storedCounts (databaseUrl: string): Promise<string> {
  const client = new pg.Client({ connectionString: databaseUrl })
  await client.connect()
  try {
    const { rows } = await client.query<{ what: string, count: number }>(
      `select 'signals' as what, count(*)::int as count from signal
       union all select 'events from ' || source, count(*)::int from event group by source order by what`)
    return rows.map((row) => `${row.count} ${row.what}`).join(', ')
  } finally {
    await client.end()
  }
}

/** One line of the table: a path's result, the ratios and the targets it is held to. */
interface Row {
  name: string
  result: Result
  /** Loop's paths: which bare route is its baseline, and the share of it (and p99) the target asks. */
  loop?: { baseline: 'POST' | 'GET', ofBare?: number, p99Ms?: number }
}

interface Check { row: string, target: string, seen: string, pass: boolean }

const pct = (share: number) => `${(share * 100).toFixed(1)}%`
const times = (ratio: number) => `${ratio.toFixed(2)}x`
const ratioOf = (a: Result, b: Result) => a.requests.average / Math.max(b.requests.average, 1e-9)
const refusedOf = (r: Result) => r.non2xx + r.errors + r.timeouts
const refusedShare = (r: Result) => refusedOf(r) / Math.max(r['2xx'] + refusedOf(r), 1)

/** Non-2xx answers by status, then connection errors and timeouts: `429×1200 errors×3`. */
function refusals (r: Result): string {
  const parts = Object.entries(r.statusCodeStats)
    .filter(([status]) => !status.startsWith('2'))
    .map(([status, { count }]) => `${status}×${count}`)
  if (r.errors > 0) parts.push(`errors×${r.errors}`)
  if (r.timeouts > 0) parts.push(`timeouts×${r.timeouts}`)
  return parts.length === 0 ? '0' : parts.join(' ')
}

function checksOf (row: Row, bare: { POST: Result, GET: Result }, reference: Result): Check[] {
  const checks: Check[] = [{
    row: row.name,
    target: `non-2xx and errors <= ${pct(maxRefusedShare)} of requests`,
    seen: `${pct(refusedShare(row.result))} (${refusals(row.result)})`,
    pass: refusedShare(row.result) <= maxRefusedShare
  }]
  const loop = row.loop
  if (loop === undefined) return checks
  const ofBare = ratioOf(row.result, bare[loop.baseline])
  if (loop.ofBare !== undefined) checks.push({ row: row.name, target: `>= ${pct(loop.ofBare)} of bare ${loop.baseline}`, seen: pct(ofBare), pass: ofBare >= loop.ofBare })
  if (loop.p99Ms !== undefined) checks.push({ row: row.name, target: `p99 <= ${loop.p99Ms} ms`, seen: `${row.result.latency.p99} ms`, pass: row.result.latency.p99 <= loop.p99Ms })
  const ofRef = ratioOf(row.result, reference)
  checks.push({ row: row.name, target: `>= ${times(ofReference)} raw-pg`, seen: times(ofRef), pass: ofRef >= ofReference })
  return checks
}

function deliveryChecks (figures: DeliveryFigures): Check[] {
  const share = figures.loopPerSecond / Math.max(figures.barePerSecond, 1e-9)
  return [
    { row: 'delivery drain', target: `>= ${pct(ofBareDelivery)} of bare undici`, seen: pct(share), pass: share >= ofBareDelivery },
    { row: 'first attempt after commit', target: `p50 <= ${firstAttemptP50Ms} ms`, seen: `${figures.firstAttemptMs.p50} ms`, pass: figures.firstAttemptMs.p50 <= firstAttemptP50Ms }
  ]
}

function report (rows: Row[], delivery: DeliveryFigures | null): void {
  const find = (name: string) => rows.find((row) => row.name === name)?.result as Result
  const bare = { POST: find('bare Fastify POST'), GET: find('bare Fastify GET') }
  const reference = find('raw pg, 1 txn per request')
  const checks = [...rows.flatMap((row) => checksOf(row, bare, reference)), ...(delivery === null ? [] : deliveryChecks(delivery))]
  const columns = [['path', 44], ['req/s', 9], ['p50 ms', 8], ['p99 ms', 8], ['non-2xx', 9], ['vs bare', 9], ['vs raw-pg', 10], ['targets', 8]] as const
  const line = (cells: string[]) => cells.map((cell, i) => i === 0 ? cell.padEnd(columns[0][1]) : cell.padStart(columns[i]?.[1] ?? 8)).join('')
  console.log()
  console.log(line(columns.map(([title]) => title)))
  for (const row of rows) {
    const r = row.result
    const baseline = row.loop === undefined ? undefined : bare[row.loop.baseline]
    const own = checks.filter((check) => check.row === row.name)
    console.log(line([
      row.name,
      r.requests.average.toFixed(0),
      r.latency.p50.toFixed(1),
      r.latency.p99.toFixed(1),
      String(r.non2xx),
      baseline === undefined ? '' : pct(ratioOf(r, baseline)),
      row.loop === undefined ? '' : times(ratioOf(r, reference)),
      own.every((check) => check.pass) ? 'PASS' : 'FAIL'
    ]))
  }
  if (delivery !== null) {
    console.log(`\ndelivery: ${delivery.deliveries} queued over ${delivery.endpoints} endpoints, ${delivery.inFlight} in flight: ` +
      `Loop ${delivery.loopPerSecond.toFixed(0)} deliveries/s, bare undici ${delivery.barePerSecond.toFixed(0)}/s ` +
      `(${pct(delivery.loopPerSecond / Math.max(delivery.barePerSecond, 1e-9))}); first attempt after the commit: ` +
      `p50 ${delivery.firstAttemptMs.p50} ms, p95 ${delivery.firstAttemptMs.p95} ms over ${delivery.firstAttemptMs.samples} events`)
    const { cpu } = delivery
    if (cpu !== null) {
      const ms = (value: number) => value.toFixed(3)
      console.log(`  CPU per delivery (ms of one core): Loop's drain: Loop ${ms(cpu.loop.sender)}, receiver ${ms(cpu.loop.receiver)}, the rest (PostgreSQL) ${ms(cpu.loop.rest)}, ` +
        `cores ${pct(cpu.loop.machineBusy)} busy; bare: client ${ms(cpu.bare.sender)}, receiver ${ms(cpu.bare.receiver)}, the rest ${ms(cpu.bare.rest)}, cores ${pct(cpu.bare.machineBusy)} busy`)
    }
  }
  console.log('\ntargets (issues 16 and 17; vs bare: bare POST for writes, bare GET for GET /api/events; connection errors and timeouts count as refused):')
  for (const check of checks) {
    if (check.pass && check.target.startsWith('non-2xx') && refusedOf(find(check.row)) === 0) continue
    console.log(`  ${check.pass ? 'PASS' : 'FAIL'}  ${check.row.padEnd(44)} ${check.target.padEnd(36)} ${check.seen}`)
  }
  const failed = checks.filter((check) => !check.pass).length
  console.log(failed === 0 ? 'every target holds' : `${failed} of ${checks.length} checks FAIL`)
}

/** How many attempts Loop keeps in flight at once over `endpoints` endpoints; the bare client gets as many. */
function deliveryCapacity (config: Config, endpoints: number): number {
  return Math.min(config.deliveryConcurrency, endpoints * config.deliveryPerEndpoint)
}

/** The delivery figures (bench/delivery.ts) with this run's settings, printed as they come. */
async function deliveryRun (loopUrl: string, databaseUrl: string, receiverUrl: string): Promise<DeliveryFigures> {
  const endpoints = Math.round(setting('BENCH_DELIVERY_ENDPOINTS', 16))
  const deliveries = Math.round(setting('BENCH_DELIVERIES', 20_000))
  const inFlight = deliveryCapacity(loadConfig(process.env), endpoints)
  process.stdout.write(`measuring a backlog of ${deliveries} deliveries over ${endpoints} endpoints (${inFlight} in flight), then first attempts ...`)
  const figures = await measureDelivery({ loopUrl, adminKey, databaseUrl, receiverUrl, loopPid: pids.get(loopUrl) ?? -1, receiverPid: pids.get(receiverUrl) ?? -1 }, { deliveries, endpoints, inFlight })
  console.log(` Loop ${figures.loopPerSecond.toFixed(0)}/s, bare undici ${figures.barePerSecond.toFixed(0)}/s, first attempt p50 ${figures.firstAttemptMs.p50} ms`)
  return figures
}

async function main (): Promise<void> {
  const scratch = await mkdtemp(join(tmpdir(), 'loop-bench-'))
  const embedded = process.env.DATABASE_URL === undefined
    ? await startEmbeddedPostgres({ dataDir: scratch, database: 'postgres', persistent: false })
    : null
  const suffix = randomBytes(4).toString('hex')
  const databases = await createDatabases(embedded?.url ?? process.env.DATABASE_URL as string, [`loop_bench_${suffix}`, `reference_bench_${suffix}`])
  try {
    const [loopDatabase, referenceDatabase] = databases.urls as [string, string]
    // The reference writes into Loop's own tables, with their indexes and checks.
    const orm = await openOrm(referenceDatabase)
    try { await migrate(orm, referenceDatabase) } finally { await orm.close() }

    const bareUrl = await startServer('bench/bare-server.ts', { ...process.env }, /bare Fastify is listening on (http:\/\/\S+)/)
    const referenceUrl = await startServer('bench/reference-server.ts', {
      ...process.env,
      REFERENCE_DATABASE_URL: referenceDatabase,
      REFERENCE_POOL_SIZE: process.env.REFERENCE_POOL_SIZE ?? '10'
    }, /raw-PostgreSQL reference is listening on (http:\/\/\S+)/)
    const receiverUrl = await startServer('bench/receiver-server.ts', { ...process.env }, /bench receiver is listening on (http:\/\/\S+)/)
    const drainReceiverUrl = await startServer('bench/receiver-server.ts', { ...process.env }, /bench receiver is listening on (http:\/\/\S+)/)
    const loopUrl = await startServer('server.ts', {
      ...process.env,
      DATABASE_URL: loopDatabase,
      HOST: '127.0.0.1',
      PORT: '0',
      LOOP_ADMIN_KEY: adminKey,
      GITHUB_WEBHOOK_SECRET: githubSecret,
      // The bench's receiver is on 127.0.0.1, which the SSRF guard refuses otherwise.
      LOOP_ALLOW_PRIVATE_URLS: 'true',
      // All traffic comes from one address; the per-IP webhook limit would measure itself, not ingestion.
      LOOP_WEBHOOK_RATE: '1000000',
      LOOP_WEBHOOK_BURST: '1000000',
      LOG_LEVEL: 'warn'
    }, /Loop is listening on (http:\/\/\S+)/, (process.env.BENCH_LOOP_NODE_ARGS ?? '').split(' ').filter((arg) => arg !== ''))
    const ready = await fetch(`${loopUrl}/ready`)
    if (ready.status !== 200) throw new Error(`Loop is not ready: ${ready.status} ${await ready.text()}`)

    // Two sets of 8 premium keys (4 brands × 2): one without subscribers, one whose brands each have an endpoint.
    const eventKeys = await createPremiumKeys(loopUrl, adminKey, 'bench', 4, 2)
    const subscribedKeys = await createPremiumKeys(loopUrl, adminKey, 'subscribed', 4, 2)
    const endpoints = await subscribeEachBrand(loopUrl, subscribedKeys, receiverUrl)
    const [shopifyOwner] = eventKeys
    if (shopifyOwner === undefined) throw new Error('bench setup made no keys')
    await declareShopifyRoute(loopUrl, shopifyOwner, shopifyPath, shopifySecret)

    const batch = loadConfig(process.env).ingestBatch
    console.log(`bench: ${connections} connections, ${duration} s per path after ${warmup} s of warm-up, every write unique`)
    console.log(`Loop's group commit: batches of up to ${batch.maxSize}, waiting up to ${batch.maxWaitMs} ms for batch-mates, ${batch.maxInFlight} in flight (LOOP_INGEST_*)`)
    console.log(`POST /api/events over ${eventKeys.length} premium keys of 4 brands; the subscribed run over ${subscribedKeys.length} more, ${endpoints} endpoints (one per brand)`)

    const nextEventKey = roundRobin(eventKeys)
    const nextSubscribedKey = roundRobin(subscribedKeys)
    const referenceKey = { secret: 'none', brandId: randomUUID() }
    const rows: Row[] = []
    // In this order: GET /api/events reads what the event runs stored, and the subscribed run is
    // last so its deliveries (sent while it runs, as they would be) load no other path.
    const paths: Array<{ name: string, url: string, next: () => Request, loop?: Row['loop'] }> = [
      { name: 'bare Fastify POST', url: bareUrl, next: () => leadCaptured('/ingest', referenceKey) },
      { name: 'bare Fastify GET', url: bareUrl, next: () => ({ method: 'GET', path: '/items', headers: {} }) },
      { name: 'raw pg, 1 txn per request', url: referenceUrl, next: () => leadCaptured('/events', referenceKey) },
      { name: 'POST /api/signals/github (signed)', url: loopUrl, next: () => githubPush(githubSecret), loop: { baseline: 'POST', ofBare: 0.2, p99Ms: 30 } },
      { name: 'POST /api/events', url: loopUrl, next: () => leadCaptured('/api/events', nextEventKey()), loop: { baseline: 'POST', ofBare: 0.12, p99Ms: 40 } },
      { name: `POST ${shopifyPath} (signed)`, url: loopUrl, next: () => shopifyOrderCreated(shopifyPath, shopifySecret), loop: { baseline: 'POST', ofBare: 0.12 } },
      { name: 'GET /api/events?limit=20', url: loopUrl, next: () => listEvents(nextEventKey()), loop: { baseline: 'GET', ofBare: 0.2 } },
      { name: 'POST /api/events, 1 subscriber per brand', url: loopUrl, next: () => leadCaptured('/api/events', nextSubscribedKey()), loop: { baseline: 'POST', ofBare: 0.1 } }
    ]
    const only = (process.env.BENCH_ONLY ?? '').split(',').map((word) => word.trim()).filter((word) => word !== '')
    const wants = (name: string) => only.length === 0 || only.some((word) => name.includes(word))
    const chosen = paths.filter((path) => path.loop === undefined || wants(path.name))
    let delivery: DeliveryFigures | null = null
    for (const path of chosen) {
      // Before the subscribed run, whose deliveries would still be draining: the queue is empty here.
      if (path.name.includes('subscriber') && delivery === null && wants('delivery')) delivery = await deliveryRun(loopUrl, loopDatabase, drainReceiverUrl)
      if (path.name.startsWith('GET')) await analyze(loopDatabase)
      process.stdout.write(`measuring ${path.name} ...`)
      const result = await measure(path.url, path.next)
      console.log(` ${result.requests.average.toFixed(0)} req/s, ${refusedOf(result)} non-2xx or errors`)
      rows.push({ name: path.name, result, ...(path.loop === undefined ? {} : { loop: path.loop }) })
    }
    const delivered = await (await fetch(`${receiverUrl}/count`)).json() as { received: number }
    console.log(`stored in Loop's database: ${await storedCounts(loopDatabase)}; the receiver had ${delivered.received} deliveries by the end of the subscribed run`)
    if (delivery === null && wants('delivery')) delivery = await deliveryRun(loopUrl, loopDatabase, drainReceiverUrl)
    report(rows, delivery)
  } finally {
    await stopAll()
    await databases.drop()
    await embedded?.stop()
    await rm(scratch, { recursive: true, force: true })
  }
}

process.once('SIGINT', () => {
  void stopAll().then(() => process.exit(130))
})

await main()
