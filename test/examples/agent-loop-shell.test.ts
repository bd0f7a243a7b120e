// examples/agent-loop.sh, the curl loop README.md and docs/agents.md show, run by /bin/sh as a user
// runs it: against a real Loop it claims an issue and marks it done; against a scripted server it
// backs off on 503, 401 and network errors (1 s, then 2 s, …), honours Retry-After on 429, retries
// a failed PATCH, and never PATCHes anything after a 204.
import t from 'tap'
import { spawn } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { freePort } from '../../lib/db/embedded-postgres.ts'
import type { TestContext } from '../helper.ts'
import { eventually, startReceiver, type Answer, type ReceivedRequest } from '../receiver.ts'
import { listeningLoop } from '../sdk/loop-server.ts'

const root = fileURLToPath(new URL('../..', import.meta.url))
const script = join(root, 'examples', 'agent-loop.sh')

interface Running { stdout: () => string, stderr: () => string, waitFor: (stream: 'stdout' | 'stderr', pattern: RegExp) => Promise<RegExpExecArray> }

/** Runs the script in its own process group (so its sleep and curl stop with it) and a temp dir. */
async function run (t: TestContext, env: Record<string, string>): Promise<Running> {
  const scratch = await mkdtemp(join(tmpdir(), 'loop-agent-sh-'))
  const child = spawn('/bin/sh', [script], { cwd: root, detached: true, env: { ...process.env, TMPDIR: scratch, LOOP_AGENT: 'shell-agent@ci', ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()))
  t.teardown(async () => {
    if (child.pid !== undefined && child.exitCode === null) process.kill(-child.pid, 'SIGTERM')
    await exited
    await rm(scratch, { recursive: true, force: true })
  })
  const output = { stdout: '', stderr: '' }
  const listeners: (() => void)[] = []
  for (const stream of ['stdout', 'stderr'] as const) {
    child[stream].on('data', (chunk: Buffer) => { output[stream] += chunk.toString(); for (const listener of listeners) listener() })
  }
  return {
    stdout: () => output.stdout,
    stderr: () => output.stderr,
    waitFor: (stream, pattern) => new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${pattern} on ${stream} in 30 s:\n${output.stdout}\n${output.stderr}`)), 30_000)
      const check = () => {
        const match = pattern.exec(output[stream])
        if (match !== null) { clearTimeout(timer); resolve(match) }
      }
      listeners.push(check)
      check()
    })
  }
}

t.test('README.md and docs/agents.md show examples/agent-loop.sh as it is', async (t) => {
  // The lines after the script's opening comment are the snippet.
  const snippet = (await readFile(script, 'utf8')).split('\n\n').slice(1).join('\n\n')
  for (const doc of ['README.md', 'docs/agents.md']) {
    t.ok((await readFile(join(root, doc), 'utf8')).includes('```sh\n' + snippet + '```\n'), `${doc} has the loop verbatim`)
  }
})

t.test('against a real Loop it claims the issue, marks it done, and then idles quietly', async (t) => {
  const loop = await listeningLoop(t)
  const key = await loop.operatorKeyWith(['issues:read', 'issues:write'])
  const headers = { authorization: `Bearer ${key}` }
  const filed = await loop.app.inject({ method: 'POST', url: '/api/issues', headers, payload: { title: 'Rotate the TLS certificate', type: 'bug', priority: 2 } })
  t.equal(filed.statusCode, 201)
  const { id, number } = filed.json<{ id: string, number: number }>()

  const agent = await run(t, { LOOP_URL: loop.baseUrl, LOOP_API_KEY: key })
  await agent.waitFor('stdout', /claimed #\d+: .*\n/)
  t.equal(agent.stdout(), `claimed #${number}: Rotate the TLS certificate\n`)
  const done = await eventually(async () => {
    const issue = (await loop.app.inject({ method: 'GET', url: `/api/issues/${id}`, headers })).json<{ status: string, claimedBy: string }>()
    return issue.status === 'done' ? issue : undefined
  }, 30_000, 'the issue to be done')
  t.equal(done.claimedBy, 'shell-agent@ci')
  t.equal(agent.stderr(), '', 'no error on the way')
})

t.test('errors back off, doubling, Retry-After is honoured, and a 204 never leads to a PATCH', async (t) => {
  // What the scripted server answers, in order; after the list, 204 for ever.
  const script: Answer[] = [
    { status: 503, body: '{"ok":false,"error":{"code":"INTERNAL_ERROR","message":"down"}}' },
    { status: 401, body: '{"ok":false,"error":{"code":"UNAUTHORIZED","message":"no"}}' },
    { status: 429, headers: { 'retry-after': '3' }, body: '{"ok":false,"error":{"code":"RATE_LIMITED","message":"slow down"}}' },
    { status: 200, headers: { 'content-type': 'application/json' }, body: '{"id":"9e8d7c6b-5a49-4382-b716-a5f4e3d2c1b0","number":7,"title":"Flaky test"}' },
    { status: 502, body: 'bad gateway' },
    { status: 200, headers: { 'content-type': 'application/json' }, body: '{"id":"9e8d7c6b-5a49-4382-b716-a5f4e3d2c1b0","number":7,"status":"done"}' }
  ]
  const server = await startReceiver(t, (request: ReceivedRequest) => script[request.n - 1] ?? { status: 204 })
  const agent = await run(t, { LOOP_URL: new URL(server.url).origin, LOOP_API_KEY: 'lk_live_test' })
  // Two 204s after the script: the loop is idling, and has been past the first one.
  await agent.waitFor('stderr', /HTTP 502: retrying in 1 s\n/)
  const requests = await server.waitFor(script.length + 1, 60_000)
  t.same(requests.map((r) => `${r.method} ${r.path}`), [
    'POST /api/issues/claim',
    'POST /api/issues/claim',
    'POST /api/issues/claim',
    'POST /api/issues/claim',
    'PATCH /api/issues/9e8d7c6b-5a49-4382-b716-a5f4e3d2c1b0',
    'PATCH /api/issues/9e8d7c6b-5a49-4382-b716-a5f4e3d2c1b0',
    'POST /api/issues/claim'
  ])
  t.same(JSON.parse(requests[0]?.body.toString() ?? ''), { agent: 'shell-agent@ci', types: ['signal', 'bug'] })
  t.equal(requests[4]?.headers.authorization, 'Bearer lk_live_test')
  t.equal(agent.stderr(), [
    'HTTP 503: retrying in 1 s', // the first error waits 1 s
    'HTTP 401: retrying in 2 s', // the next twice as long
    'HTTP 429: retrying in 3 s', // Retry-After, not the back-off
    'HTTP 502: retrying in 1 s' // a claim that worked started the back-off afresh
  ].map((line) => `${line}\n`).join(''))
  t.equal(agent.stdout(), 'claimed #7: Flaky test\n')
  // The gaps the server saw: at least the waits the loop announced.
  const gap = (i: number) => (requests[i]?.at ?? 0) - (requests[i - 1]?.at ?? 0)
  t.ok(gap(1) >= 900 && gap(2) >= 1900 && gap(3) >= 2900 && gap(5) >= 900, `gaps ${[1, 2, 3, 5].map(gap).join(', ')} ms`)
})

t.test('without an answer at all (nothing listening) it backs off too', async (t) => {
  const agent = await run(t, { LOOP_URL: `http://127.0.0.1:${await freePort()}`, LOOP_API_KEY: 'lk_live_test' })
  await agent.waitFor('stderr', /HTTP 000: retrying in 2 s\n/)
  t.equal(agent.stderr(), 'HTTP 000: retrying in 1 s\nHTTP 000: retrying in 2 s\n')
})

t.test('without a key it stops at once and says why', async (t) => {
  const agent = await run(t, { LOOP_API_KEY: '' })
  await agent.waitFor('stderr', /LOOP_API_KEY/)
  t.match(agent.stderr(), /set LOOP_API_KEY to an lk_ key/)
})
