// examples/agent-loop.ts, run as a user runs it (its own process, the built @loop/sdk, real HTTP):
// against a listening Loop with seeded issues it must claim each one and leave it done; against
// Loop as an operator runs it (test/reliability/loop-process.ts) it must hand back the issue an
// earlier run held, and carry on when Loop is stopped and started again under it.
import t from 'tap'
import { spawn, type ChildProcess } from 'node:child_process'
import { createServer, type AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import { dependabotAlert, githubDelivery } from '../fixtures/provider-deliveries.ts'
import { listeningLoop } from '../sdk/loop-server.ts'
import { bearer, call, freshDatabase, newAdminKey, startLoopProcess } from '../reliability/loop-process.ts'
import type { TestContext } from '../helper.ts'

const root = fileURLToPath(new URL('../..', import.meta.url))

interface Example {
  child: ChildProcess
  stdout: () => string
  stderr: () => string
  /** Resolves once the output matches `pattern`. */
  waitFor: (pattern: RegExp, stream?: 'stdout' | 'stderr', timeoutMs?: number) => Promise<void>
  exited: Promise<number | null>
}

function startExample (t: TestContext, env: Record<string, string>): Example {
  const child = spawn(process.execPath, ['--import', 'tsx', 'examples/agent-loop.ts'], { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  const out = { stdout: '', stderr: '' }
  const waiters = new Set<() => void>()
  const collect = (stream: 'stdout' | 'stderr') => (chunk: Buffer) => {
    out[stream] += chunk.toString()
    for (const check of waiters) check()
  }
  child.stdout.on('data', collect('stdout'))
  child.stderr.on('data', collect('stderr'))
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => { for (const check of waiters) check(); resolve(code) }))
  t.teardown(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL') })
  return {
    child,
    stdout: () => out.stdout,
    stderr: () => out.stderr,
    exited,
    waitFor: (pattern, stream = 'stdout', timeoutMs = 60_000) => new Promise<void>((resolve, reject) => {
      const check = () => {
        if (pattern.test(out[stream])) { done(); resolve() } else if (child.exitCode !== null || child.signalCode !== null) { done(); reject(new Error(`the example exited (${child.exitCode ?? child.signalCode}) before ${pattern}:\n${out.stdout}\n${out.stderr}`)) }
      }
      const timer = setTimeout(() => { done(); reject(new Error(`no ${pattern} in the example's ${stream} within ${timeoutMs} ms:\n${out.stdout}\n${out.stderr}`)) }, timeoutMs)
      const done = () => { clearTimeout(timer); waiters.delete(check) }
      waiters.add(check)
      check()
    })
  }
}

async function freePort (): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

t.test('the example agent claims and completes seeded issues', async (t) => {
  const loop = await listeningLoop(t)
  // One issue raised by a real signed GitHub webhook, one filed through the API.
  const signal = await loop.app.inject(githubDelivery('dependabot_alert', dependabotAlert('critical')))
  t.equal(signal.statusCode, 201)
  const signalIssueId = signal.json<{ issueId: string }>().issueId
  // The operator's keys throughout: GitHub's signal issues are the operator's (docs/tenancy.md).
  const admin = { authorization: `Bearer ${await loop.operatorKeyWith(['issues:write'])}` }
  const filed = await loop.app.inject({ method: 'POST', url: '/api/issues', headers: admin, payload: { title: 'Renew the TLS certificate', type: 'task', priority: 3 } })
  t.equal(filed.statusCode, 201)
  const filedId = filed.json<{ id: string }>().id

  const example = startExample(t, {
    LOOP_URL: loop.baseUrl,
    LOOP_API_KEY: await loop.operatorKeyWith(['issues:read', 'issues:write']),
    LOOP_AGENT: 'example-agent@ci',
    LOOP_EXIT_WHEN_IDLE: 'true'
  })
  t.equal(await example.exited, 0, `the example exits cleanly\n${example.stderr()}`)
  t.match(example.stdout(), /claimed #\d+: GitHub: dependabot alert/, 'the critical signal issue first')
  t.match(example.stdout(), /claimed #\d+: Renew the TLS certificate/)

  for (const id of [signalIssueId, filedId]) {
    const res = await loop.app.inject({ method: 'GET', url: `/api/issues/${id}`, headers: { authorization: `Bearer ${await loop.operatorKeyWith(['issues:read'])}` } })
    const issue = res.json<{ status: string, claimedBy: string, description: string }>()
    t.equal(issue.status, 'done')
    t.equal(issue.claimedBy, 'example-agent@ci')
    t.match(issue.description, /Handled by example-agent@ci/)
  }
})

t.test('the example hands back what it held, and carries on across a restart of Loop', async (t) => {
  const databaseUrl = await freshDatabase(t)
  const adminKey = newAdminKey()
  // A fixed port, so the restarted Loop is where the example keeps calling.
  const env = { LOOP_ADMIN_KEY: adminKey, PORT: String(await freePort()) }
  let loop = await startLoopProcess(t, databaseUrl, env)
  const api = async (method: string, path: string, body?: unknown) => {
    const answer = await call(`${loop.url}${path}`, { method, headers: bearer(adminKey), ...(body === undefined ? {} : { body: JSON.stringify(body) }) })
    return answer.json() as { id: string, number: number, status: string, claimedBy: string | null }
  }
  // The issue an earlier run of this agent claimed and never finished.
  const leftOver = await api('POST', '/api/issues', { title: 'Left over from the last run', type: 'task', priority: 1 })
  t.equal((await api('POST', '/api/issues/claim', { agent: 'example-agent@ci' })).id, leftOver.id)
  const before = await api('POST', '/api/issues', { title: 'Filed before the restart', type: 'task', priority: 2 })

  const example = startExample(t, {
    LOOP_URL: loop.url,
    LOOP_API_KEY: adminKey,
    LOOP_AGENT: 'example-agent@ci',
    LOOP_POLL_SECONDS: '0.2',
    // Short waits, enough of them to outlast a restart on a loaded machine.
    LOOP_RETRY_DELAYS_MS: ['200', '500', '1000', ...Array(40).fill('2000')].join(',')
  })
  await example.waitFor(new RegExp(`#${leftOver.number} handed back`))
  await example.waitFor(new RegExp(`#${leftOver.number} is done[\\s\\S]*#${before.number} is done`))

  loop.child.kill('SIGTERM')
  t.equal(await loop.exited, 0, 'Loop drained and stopped')
  await example.waitFor(/Loop unreachable, retry \d+ in \d+ ms/, 'stderr')
  t.equal(example.child.exitCode, null, 'the example is still running while Loop is down')

  loop = await startLoopProcess(t, databaseUrl, env)
  const after = await api('POST', '/api/issues', { title: 'Filed after the restart', type: 'task', priority: 2 })
  await example.waitFor(new RegExp(`claimed #${after.number}: Filed after the restart\\n#${after.number} is done`))
  t.equal(example.child.exitCode, null, 'the same process carried on')

  for (const issue of [leftOver, before, after]) {
    const now = await api('GET', `/api/issues/${issue.id}`)
    t.equal(now.status, 'done', `#${issue.number} done`)
    t.equal(now.claimedBy, 'example-agent@ci')
  }
  example.child.kill('SIGTERM')
  await example.exited
})

t.test('without a key the example stops with a clear message', async (t) => {
  const example = startExample(t, { LOOP_URL: 'http://127.0.0.1:9', LOOP_API_KEY: '' })
  t.not(await example.exited, 0)
  t.match(example.stderr(), /LOOP_API_KEY is required/)
})
