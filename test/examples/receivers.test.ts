// The receivers in examples/receivers/, each run as a user runs it (its own process: Node with tsx
// for Express, Debian's /usr/bin/python3 with python3-flask for Flask). A real Loop delivers a
// signed webhook to each; then bodies signed exactly as Loop signs them (lib/signing/outbound.ts)
// show that only a matching X-Loop-Signature over the unchanged bytes is accepted.
import t from 'tap'
import { spawn, spawnSync } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { freePort } from '../../lib/db/embedded-postgres.ts'
import { generateWebhookSecret, outboundHeaders } from '../../lib/signing/outbound.ts'
import { ensureDebianPackage } from '../apt.ts'
import type { TestContext } from '../helper.ts'
import { lead, register, sendLead, settledLog, startLoop } from '../webhook-api.ts'

// Room for installing python3-flask first on a machine without it.
t.setTimeout(300_000)

const root = fileURLToPath(new URL('../..', import.meta.url))
// Debian's interpreter, not a pyenv shim on PATH: python3-flask is installed for this one.
const python = '/usr/bin/python3'
ensureDebianPackage('python3-flask', () => spawnSync(python, ['-c', 'import flask']).status === 0, `install python3-flask so that ${python} can import flask`)

const receivers = [
  { name: 'Express', command: [process.execPath, '--import', 'tsx', 'examples/receivers/express/server.ts'] },
  { name: 'Flask', command: [python, 'examples/receivers/flask/app.py'] }
]

interface Running {
  url: string
  output: () => string
  /**
   * Resolves with the output once `pattern` has matched `count` times: a receiver logs before it
   * answers, but the line comes through a pipe and may reach this process after the answer.
   */
  logged: (pattern: RegExp, count?: number) => Promise<string>
}

/** Starts a receiver with `secret` on `port` (0: any) and resolves once it says where it listens. */
async function run (t: TestContext, command: string[], secret: string, port = 0): Promise<Running> {
  const [file = '', ...args] = command
  const child = spawn(file, args, { cwd: root, env: { ...process.env, WEBHOOK_SECRET: secret, PORT: String(port), HOST: '127.0.0.1' }, stdio: ['ignore', 'pipe', 'pipe'] })
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()))
  t.teardown(async () => { child.kill('SIGTERM'); await exited })
  let output = ''
  const listeners = new Set<() => void>()
  const onData = (chunk: Buffer) => {
    output += chunk.toString()
    for (const listener of listeners) listener()
  }
  child.stdout.on('data', onData)
  child.stderr.on('data', onData)
  const logged = async (pattern: RegExp, count = 1, timeoutMs = 30_000) => await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => { listeners.delete(look); reject(new Error(`${pattern} not seen ${count} times in ${timeoutMs} ms:\n${output}`)) }, timeoutMs)
    const look = () => {
      if ((output.match(new RegExp(pattern.source, pattern.flags.includes('g') ? pattern.flags : `${pattern.flags}g`))?.length ?? 0) < count) return
      clearTimeout(timer)
      listeners.delete(look)
      resolve(output)
    }
    listeners.add(look)
    look()
  })
  const url = await Promise.race([
    logged(/listening on (http:\/\/\S+)/).then((text) => /listening on (http:\/\/\S+)/.exec(text)?.[1] as string),
    new Promise<never>((_resolve, reject) => {
      child.on('error', reject)
      void exited.then(() => reject(new Error(`exited before listening:\n${output}`)))
    })
  ])
  return { url, output: () => output, logged }
}

/** A webhook body and its headers, made by Loop's own signing code. */
function signed (secret: string, previousSecret?: string): { body: string, headers: Record<string, string> } {
  const body = JSON.stringify({ id: `msg_${randomUUID()}`, type: 'lead.captured.v1', createdAt: new Date().toISOString(), data: lead() })
  const headers = outboundHeaders({ body, messageId: randomUUID(), deliveryId: randomUUID(), eventType: 'lead.captured.v1', timestamp: Math.floor(Date.now() / 1000), secret, previousSecret: previousSecret ?? null })
  return { body, headers }
}

async function post (url: string, body: string, headers: Record<string, string>): Promise<number> {
  return (await fetch(url, { method: 'POST', headers, body })).status
}

for (const { name, command } of receivers) {
  t.test(`${name}: a real Loop's delivery verifies and is answered 200`, async (t) => {
    const loop = await startLoop(t)
    const port = await freePort()
    const endpoint = await register(loop, `http://127.0.0.1:${port}/webhooks/loop`)
    const receiver = await run(t, command, endpoint.secret, port)
    await sendLead(loop)
    const [delivery] = await settledLog(loop, endpoint.id)
    t.equal(delivery?.status, 'succeeded')
    t.same(delivery?.attempts.map((attempt) => attempt.statusCode), [200], 'accepted on the first attempt')
    t.match(await receiver.logged(/^received /m), new RegExp(`received lead\\.captured\\.v1 \\S+ \\(delivery ${delivery?.id}\\)`))
  })

  t.test(`${name}: only the unchanged body with a signature from its secret is accepted`, async (t) => {
    const secret = generateWebhookSecret()
    const receiver = await run(t, command, secret)
    const good = signed(secret)
    t.equal(await post(receiver.url, good.body, good.headers), 200, 'signed with its secret')
    t.equal(await post(receiver.url, good.body.replace('user@example.com', 'mallory@example.com'), good.headers), 401, 'tampered body')
    t.equal(await post(receiver.url, ` ${good.body}`, good.headers), 401, 'one byte more')
    const other = signed(generateWebhookSecret())
    t.equal(await post(receiver.url, other.body, other.headers), 401, 'signed with another secret')
    const { 'x-loop-signature': _signature, ...unsigned } = good.headers
    t.equal(await post(receiver.url, good.body, unsigned), 401, 'no X-Loop-Signature')
    t.equal(await post(receiver.url, good.body, { ...good.headers, 'x-loop-signature': 'not hex at all' }), 401, 'a signature that is not hex')
    const rotating = signed(generateWebhookSecret(), secret)
    t.equal(await post(receiver.url, rotating.body, rotating.headers), 200, 'during a rotation, the previous secret still verifies')
    // The requests went one after another, each logged before its answer: once the second
    // acceptance's line is here, any line of the refused ones sent before it is here too.
    t.equal((await receiver.logged(/^received /gm, 2)).match(/^received /gm)?.length, 2, 'only the accepted two were handled')
  })
}
