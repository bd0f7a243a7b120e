// An agent's polling loop with @loop/sdk: claim the most urgent issue, work on it, PATCH its status.
// Run it against a local Loop (`npm start`, then create a key with issues:read and issues:write):
//
//   LOOP_URL=http://127.0.0.1:3000 LOOP_API_KEY=lk_... node --import tsx examples/agent-loop.ts
//
// Settings: LOOP_AGENT (the name recorded as claimedBy), LOOP_ISSUE_TYPES (comma-separated, e.g.
// "signal,bug"), LOOP_POLL_SECONDS (wait when the queue is empty, default 30) and
// LOOP_EXIT_WHEN_IDLE=true to stop at the first empty claim instead of polling forever.
import { createClient, type Schemas } from '@loop/sdk'

type Issue = Schemas['Issue']
type IssueType = Issue['type']

const loop = createClient({ baseUrl: process.env.LOOP_URL ?? 'http://127.0.0.1:3000', apiKey: required('LOOP_API_KEY') })
const agent = process.env.LOOP_AGENT ?? `example-agent@${process.pid}`
const types = process.env.LOOP_ISSUE_TYPES?.split(',').map((type) => type.trim() as IssueType)
const pollMs = Number(process.env.LOOP_POLL_SECONDS ?? 30) * 1000
const exitWhenIdle = process.env.LOOP_EXIT_WHEN_IDLE === 'true'

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
  const { data, error } = await loop.GET('/api/issues/{id}', { params: { path: { id: issue.id } } })
  if (error !== undefined) throw new Error(`could not read issue ${issue.number}: ${error.error.message}`)
  const source = data.signal === null ? 'no signal' : `${data.signal.source} ${data.signal.type} signal`
  return `Handled by ${agent}: looked at #${issue.number} "${issue.title}" (${source}, priority ${issue.priority}).`
}

for (;;) {
  const claimed = await loop.POST('/api/issues/claim', { body: { agent, ...(types === undefined ? {} : { types }) } })
  if (claimed.error !== undefined) {
    if (claimed.response.status === 429) { await sleep(Number(claimed.response.headers.get('retry-after') ?? 1) * 1000); continue }
    throw new Error(`claim failed: ${claimed.response.status} ${claimed.error.error.message}`)
  }
  if (claimed.response.status === 204 || claimed.data === undefined) {
    if (exitWhenIdle) break
    await sleep(pollMs)
    continue
  }
  const issue = claimed.data.issue
  console.log(`claimed #${issue.number}: ${issue.title}`)
  let update: Schemas['UpdateIssueRequest']
  try {
    const note = await work(issue)
    update = { status: 'done', description: [issue.description, note].filter(Boolean).join('\n\n') }
  } catch (error) {
    console.error(`#${issue.number} goes back to the queue: ${(error as Error).message}`)
    update = { status: 'todo' }
  }
  const patched = await loop.PATCH('/api/issues/{id}', { params: { path: { id: issue.id } }, body: update })
  if (patched.error !== undefined) throw new Error(`update of #${issue.number} failed: ${patched.error.error.message}`)
  console.log(`#${issue.number} is ${patched.data.issue.status}`)
}
