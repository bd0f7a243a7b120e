// An agent's polling loop with @loop/sdk: claim the most urgent issue, work on it, PATCH its status.
// Run it against a local Loop (`npm start`, then create a key with issues:read and issues:write):
//
//   LOOP_URL=http://127.0.0.1:3000 LOOP_API_KEY=lk_... node --import tsx examples/agent-loop.ts
//
// Settings: LOOP_AGENT (the name recorded as claimedBy), LOOP_ISSUE_TYPES (comma-separated, e.g.
// "signal,bug"), LOOP_POLL_SECONDS (wait when the queue is empty, default 30),
// LOOP_EXIT_WHEN_IDLE=true to stop at the first empty claim instead of polling forever, and
// LOOP_RETRY_DELAYS_MS (comma-separated waits before each retry, default the schedule of docs/api.md#retries
// 1 s, 5 s, 30 s, 2 min, 10 min).
//
// Loop may restart under it: the client retries what failed on the way (connection refused, 5xx,
// 429) and every claim carries an Idempotency-Key, so a retried claim cannot take a second issue.
// An issue this agent held when it last stopped goes back to the queue at start.
import { createClient, LoopError, type Schemas } from '@loop/sdk'

type Issue = Schemas['Issue']
type IssueType = Issue['type']

const agent = process.env.LOOP_AGENT ?? `example-agent@${process.pid}`
const types = process.env.LOOP_ISSUE_TYPES?.split(',').map((type) => type.trim() as IssueType)
const pollMs = Number(process.env.LOOP_POLL_SECONDS ?? 30) * 1000
const exitWhenIdle = process.env.LOOP_EXIT_WHEN_IDLE === 'true'
const retryDelaysMs = process.env.LOOP_RETRY_DELAYS_MS?.split(',').map(Number)

const loop = createClient({
  baseUrl: process.env.LOOP_URL ?? 'http://127.0.0.1:3000',
  apiKey: required('LOOP_API_KEY'),
  ...(retryDelaysMs === undefined ? {} : { retryDelaysMs }),
  onRetry: ({ attempt, delayMs, method, url, status }) => {
    console.error(`${method} ${new URL(url).pathname}: ${status === undefined ? 'Loop unreachable' : `HTTP ${status}`}, retry ${attempt} in ${delayMs} ms`)
  }
})

function required (name: string): string {
  const value = process.env[name]
  if (value === undefined || value === '') throw new Error(`${name} is required`)
  return value
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * Your agent goes here. This one reads the issue and the signal that raised it and writes what it
 * would do; return a note for the issue's description, or throw to hand the issue back.
 */
async function work (issue: Issue): Promise<string> {
  const { data, error, response } = await loop.GET('/api/issues/{id}', { params: { path: { id: issue.id } } })
  if (error !== undefined) throw LoopError.from(error, response)
  const source = data.signal === null ? 'no signal' : `${data.signal.source} ${data.signal.type} signal`
  return `Handled by ${agent}: looked at #${issue.number} "${issue.title}" (${source}, priority ${issue.priority}).`
}

async function update (issue: Issue, body: Schemas['UpdateIssueRequest']): Promise<Issue> {
  const { data, error, response } = await loop.PATCH('/api/issues/{id}', { params: { path: { id: issue.id } }, body })
  if (error !== undefined) throw LoopError.from(error, response)
  return data
}

// What this agent still held when it last stopped (in progress, claimed by this name) goes back
// to the queue, and is claimed again below in its turn.
for await (const issue of loop.paginate('/api/issues', { query: { status: ['in_progress'], limit: 100 } })) {
  if (issue.claimedBy !== agent) continue
  await update(issue, { status: 'todo' })
  console.log(`#${issue.number} handed back: claimed before a restart`)
}

for (;;) {
  const claimed = await loop.POST('/api/issues/claim', { body: { agent, ...(types === undefined ? {} : { types }) } })
  if (claimed.error !== undefined) throw LoopError.from(claimed.error, claimed.response)
  if (claimed.data === undefined) {
    // 204: nothing to claim.
    if (exitWhenIdle) break
    await sleep(pollMs)
    continue
  }
  const issue = claimed.data
  console.log(`claimed #${issue.number}: ${issue.title}`)
  let body: Schemas['UpdateIssueRequest']
  try {
    const note = await work(issue)
    body = { status: 'done', description: [issue.description, note].filter(Boolean).join('\n\n') }
  } catch (error) {
    console.error(`#${issue.number} goes back to the queue: ${(error as Error).message}`)
    body = { status: 'todo' }
  }
  console.log(`#${issue.number} is ${(await update(issue, body)).status}`)
}
