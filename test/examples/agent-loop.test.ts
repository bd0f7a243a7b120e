// examples/agent-loop.ts, run as a user runs it (its own process, the built @loop/sdk, real HTTP),
// against a listening Loop with seeded issues: it must claim each one and leave it done.
import t from 'tap'
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { dependabotAlert, githubDelivery } from '../fixtures/provider-deliveries.ts'
import { listeningLoop } from '../sdk/loop-server.ts'

const root = fileURLToPath(new URL('../..', import.meta.url))

function runExample (env: Record<string, string>): Promise<{ code: number | null, stdout: string, stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'examples/agent-loop.ts'], { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString() })
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`example still running after 60 s:\n${stdout}\n${stderr}`)) }, 60_000)
    child.on('error', reject)
    child.on('exit', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }) })
  })
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
  const filedId = filed.json<{ issue: { id: string } }>().issue.id

  const run = await runExample({
    LOOP_URL: loop.baseUrl,
    LOOP_API_KEY: await loop.operatorKeyWith(['issues:read', 'issues:write']),
    LOOP_AGENT: 'example-agent@ci',
    LOOP_EXIT_WHEN_IDLE: 'true'
  })
  t.equal(run.code, 0, `the example exits cleanly\n${run.stderr}`)
  t.match(run.stdout, /claimed #\d+: GitHub: dependabot alert/, 'the critical signal issue first')
  t.match(run.stdout, /claimed #\d+: Renew the TLS certificate/)

  for (const id of [signalIssueId, filedId]) {
    const res = await loop.app.inject({ method: 'GET', url: `/api/issues/${id}`, headers: { authorization: `Bearer ${await loop.operatorKeyWith(['issues:read'])}` } })
    const { issue } = res.json<{ issue: { status: string, claimedBy: string, description: string } }>()
    t.equal(issue.status, 'done')
    t.equal(issue.claimedBy, 'example-agent@ci')
    t.match(issue.description, /Handled by example-agent@ci/)
  }
})

t.test('without a key the example stops with a clear message', async (t) => {
  const run = await runExample({ LOOP_URL: 'http://127.0.0.1:9', LOOP_API_KEY: '' })
  t.not(run.code, 0)
  t.match(run.stderr, /LOOP_API_KEY is required/)
})
