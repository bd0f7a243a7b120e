// `npm run bench` (docs/operations.md#measured-figures, issue 9): ingestion throughput and latency of Loop's
// POST /api/signals/github against, in the same run on the same machine,
// - a bare Fastify route (bench/bare-server.ts): what HTTP alone costs;
// - a raw-PostgreSQL reference (bench/reference-server.ts): the same HMAC check and the same two
//   rows written with plain `pg`, one BEGIN/INSERT/INSERT/COMMIT per request: what one durable
//   transaction per request costs.
// The servers are child processes on 127.0.0.1; Loop and the reference each get a database of
// their own in one embedded PostgreSQL the bench starts in a temporary directory. autocannon
// drives each in turn from this process with ~5 KB GitHub `push` payloads, every request unique
// (its own X-GitHub-Delivery, body and signature), so each one is stored.
// Tunable: BENCH_DURATION (s, default 10), BENCH_CONNECTIONS (50), BENCH_WARMUP (s, 2); Loop
// reads its LOOP_INGEST_* settings from the environment as usual.
import autocannon, { type Request, type Result } from 'autocannon'
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes, randomUUID } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import { loadConfig } from '../lib/config.ts'
import { startEmbeddedPostgres } from '../lib/db/embedded-postgres.ts'
import { migrate, openOrm } from '../lib/db/orm.ts'
import { signGithubPayload } from '../lib/signing/github.ts'

const root = fileURLToPath(new URL('..', import.meta.url))

function setting (name: string, fallback: number): number {
  const value = Number(process.env[name] ?? fallback)
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number`)
  return value
}

const duration = setting('BENCH_DURATION', 10)
const connections = Math.round(setting('BENCH_CONNECTIONS', 50))
const warmup = setting('BENCH_WARMUP', 2)
const secret = randomBytes(24).toString('hex')

/** A GitHub push of six commits, about 5 KB; `{{after}}` and `{{n}}` make each one unique. */
function pushTemplate (): string {
  const commit = (i: number) => ({
    id: `{{n}}${i.toString(16).padStart(2, '0')}${'c0ffee'.repeat(5)}`,
    tree_id: 'f9d2a07e9488b91af2641b26b9407fe22a451433',
    distinct: true,
    message: `Refactor the checkout flow, step ${i}\n\nSplit the payment form into smaller components and cover them with tests.`,
    timestamp: '2026-11-25T10:00:00+00:00',
    url: `https://github.com/octo/app/commit/{{n}}${i}`,
    author: { name: 'Ada Lovelace', email: 'ada@example.com', username: 'ada' },
    committer: { name: 'GitHub', email: 'noreply@github.com', username: 'web-flow' },
    added: [`src/checkout/step-${i}.ts`],
    removed: [],
    modified: ['src/checkout/index.ts', 'src/checkout/payment-form.ts', 'test/checkout.test.ts']
  })
  const commits = Array.from({ length: 6 }, (_, i) => commit(i))
  return JSON.stringify({
    ref: 'refs/heads/main',
    before: '6113728f27ae82c7b1a177c8d03f9e96e0adf246',
    after: '{{after}}',
    created: false,
    deleted: false,
    forced: false,
    compare: 'https://github.com/octo/app/compare/6113728f27ae...{{after}}',
    commits,
    head_commit: commits[5],
    repository: { id: 1296269, name: 'app', full_name: 'octo/app', private: false, default_branch: 'main', html_url: 'https://github.com/octo/app' },
    pusher: { name: 'ada', email: 'ada@example.com' },
    sender: { login: 'ada', id: 1, type: 'User' }
  })
}

// Split once at the placeholders, so making each body is one join rather than two scans of 5 KB:
// the load generator shares the machine's CPU with the servers it measures.
const templateParts = pushTemplate().split(/(\{\{after\}\}|\{\{n\}\})/)

/** A fresh, signed GitHub delivery: new delivery id, new commit ids, new signature. */
function nextDelivery (path: string): Request {
  const after = randomBytes(20).toString('hex')
  const short = after.slice(0, 8)
  const body = templateParts.map((part) => part === '{{after}}' ? after : part === '{{n}}' ? short : part).join('')
  return {
    method: 'POST',
    path,
    headers: {
      'content-type': 'application/json',
      'x-github-event': 'push',
      'x-github-delivery': randomUUID(),
      'x-hub-signature-256': signGithubPayload(body, secret)
    },
    body
  }
}

const children: ChildProcess[] = []

/** Spawns a server and resolves with the URL it prints, which must be on 127.0.0.1. */
async function startServer (script: string, env: NodeJS.ProcessEnv, banner: RegExp): Promise<string> {
  const child = spawn(process.execPath, ['--import', 'tsx', script], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] })
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

async function drive (url: string, path: string, seconds: number): Promise<Result> {
  return await autocannon({
    url,
    connections,
    duration: seconds,
    timeout: 30,
    requests: [{ setupRequest: () => nextDelivery(path) }]
  })
}

async function measure (url: string, path: string): Promise<Result> {
  await drive(url, path, warmup)
  return await drive(url, path, duration)
}

const fixed = (n: number, digits = 0) => n.toFixed(digits).padStart(9)

function row (name: string, r: Result): string {
  return `${name.padEnd(40)}${fixed(r.requests.average)}${fixed(r.latency.p50, 1)}${fixed(r.latency.p99, 1)}${String(r['2xx']).padStart(9)}${String(r.non2xx).padStart(9)}${String(r.errors + r.timeouts).padStart(9)}`
}

/** Issue 9's targets for Loop's durable ingestion. */
const targets = { ofReference: 1.6, ofBare: 0.15, p99Ms: 30 }

async function createDatabases (serverUrl: string, names: string[]): Promise<string[]> {
  const admin = new pg.Client({ connectionString: serverUrl })
  await admin.connect()
  try {
    for (const name of names) await admin.query(`create database ${name}`)
  } finally {
    await admin.end()
  }
  return names.map((name) => { const url = new URL(serverUrl); url.pathname = `/${name}`; return url.toString() })
}

async function main (): Promise<void> {
  const scratch = await mkdtemp(join(tmpdir(), 'loop-bench-'))
  const database = await startEmbeddedPostgres({ dataDir: scratch, database: 'postgres', persistent: false })
  try {
    const [loopDatabase, referenceDatabase] = await createDatabases(database.url, ['loop_bench', 'reference_bench']) as [string, string]
    // The reference writes into Loop's own tables, with their indexes and checks.
    const orm = await openOrm(referenceDatabase)
    try { await migrate(orm, referenceDatabase) } finally { await orm.close() }

    const bareUrl = await startServer('bench/bare-server.ts', { ...process.env }, /bare Fastify is listening on (http:\/\/\S+)/)
    const referenceUrl = await startServer('bench/reference-server.ts', {
      ...process.env,
      REFERENCE_DATABASE_URL: referenceDatabase,
      // One connection per concurrent request, as "one transaction per request at the same concurrency" means.
      REFERENCE_POOL_SIZE: process.env.REFERENCE_POOL_SIZE ?? String(connections),
      GITHUB_WEBHOOK_SECRET: secret
    }, /raw-PostgreSQL reference is listening on (http:\/\/\S+)/)
    const loopUrl = await startServer('server.ts', {
      ...process.env,
      DATABASE_URL: loopDatabase,
      HOST: '127.0.0.1',
      PORT: '0',
      GITHUB_WEBHOOK_SECRET: secret,
      // All traffic comes from one address; the per-IP webhook limit would measure itself, not ingestion.
      LOOP_WEBHOOK_RATE: '1000000',
      LOOP_WEBHOOK_BURST: '1000000',
      LOG_LEVEL: 'warn'
    }, /Loop is listening on (http:\/\/\S+)/)
    const ready = await fetch(`${loopUrl}/ready`)
    if (ready.status !== 200) throw new Error(`Loop is not ready: ${ready.status} ${await ready.text()}`)

    const size = Buffer.byteLength(nextDelivery('/').body ?? '')
    const batch = loadConfig(process.env).ingestBatch
    console.log(`ingestion bench: ${connections} connections, ${duration} s per target after ${warmup} s of warm-up, ${(size / 1024).toFixed(1)} KB signed GitHub push payloads, each unique`)
    console.log(`Loop's group commit: batches of up to ${batch.maxSize}, waiting up to ${batch.maxWaitMs} ms for batch-mates, ${batch.maxInFlight} in flight (LOOP_INGEST_*)`)
    const bare = await measure(bareUrl, '/ingest')
    const reference = await measure(referenceUrl, '/ingest')
    const loop = await measure(loopUrl, '/api/signals/github')

    console.log(`${'target'.padEnd(40)}${'req/s'.padStart(9)}${'p50 ms'.padStart(9)}${'p99 ms'.padStart(9)}${'2xx'.padStart(9)}${'non-2xx'.padStart(9)}${'errors'.padStart(9)}`)
    console.log(row('bare Fastify POST /ingest', bare))
    console.log(row('raw pg reference (1 txn per request)', reference))
    console.log(row('Loop POST /api/signals/github', loop))
    const ratio = (a: number, b: number) => `${(b === 0 ? 0 : a / b).toFixed(2)}x`.padStart(9)
    console.log(`${'Loop / bare'.padEnd(40)}${ratio(loop.requests.average, bare.requests.average)}${ratio(loop.latency.p50, bare.latency.p50)}${ratio(loop.latency.p99, bare.latency.p99)}`)
    console.log(`${'Loop / reference'.padEnd(40)}${ratio(loop.requests.average, reference.requests.average)}${ratio(loop.latency.p50, reference.latency.p50)}${ratio(loop.latency.p99, reference.latency.p99)}`)
    const met = (ok: boolean) => ok ? 'met' : 'NOT met'
    const ofReference = loop.requests.average / Math.max(reference.requests.average, 1e-9)
    const ofBare = loop.requests.average / Math.max(bare.requests.average, 1e-9)
    console.log(`targets: Loop >= ${targets.ofReference}x reference (${met(ofReference >= targets.ofReference)}), >= ${targets.ofBare * 100}% of bare (${met(ofBare >= targets.ofBare)}), p99 <= ${targets.p99Ms} ms (${met(loop.latency.p99 <= targets.p99Ms)})`)
    for (const [name, r] of [['the reference', reference], ['Loop', loop]] as const) {
      if (r.non2xx > 0 || r.errors > 0) console.log(`warning: ${name} answered some requests with non-2xx or errors; see above`)
    }
  } finally {
    await stopAll()
    await database.stop()
    await rm(scratch, { recursive: true, force: true })
  }
}

process.once('SIGINT', () => {
  void stopAll().then(() => process.exit(130))
})

await main()
