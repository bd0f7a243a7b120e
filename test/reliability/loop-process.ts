// Loop as an operator runs it, for the reliability tests: `node --import tsx server.ts` as a child
// process on its own cloned test database, listening on 127.0.0.1, killable with any signal and
// restartable on the same database. Also the provider-signed requests those tests fire at it.
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import pg from 'pg'
import { signGithubPayload } from '../../lib/signing/github.ts'
import { signSentryPayload } from '../../lib/signing/sentry.ts'
import { createTestDatabase } from '../database.ts'
import { testSecrets, type TestContext } from '../helper.ts'

export interface LoopProcess {
  url: string
  pid: number
  child: ChildProcess
  /** Resolves with the exit code (null when killed by a signal). */
  exited: Promise<number | null>
  /** Whatever the process printed (the last 64 KB), for failure messages. */
  output: () => string
}

/** An admin key for LOOP_ADMIN_KEY: `lk_live_` and 40 letters and digits. */
export function newAdminKey (): string {
  return `lk_live_${randomBytes(20).toString('hex')}`
}

/** A fresh clone of the run's migrated template, dropped at teardown (whatever still holds it). */
export async function freshDatabase (t: TestContext): Promise<string> {
  const database = await createTestDatabase()
  t.teardown(database.drop)
  return database.url
}

/**
 * Starts server.ts on `databaseUrl` and resolves once it listens. The environment is spelled out
 * (nothing inherited that could point it elsewhere): provider test secrets, private receivers
 * allowed, LOG_LEVEL warn, plus `env`. The process is SIGKILLed at teardown if still running.
 */
export async function startLoopProcess (t: TestContext, databaseUrl: string, env: Record<string, string> = {}): Promise<LoopProcess> {
  return await launchServer(t, {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_ENV: 'production',
    DATABASE_URL: databaseUrl,
    REDIS_URL: '',
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    LOOP_ALLOW_PRIVATE_URLS: 'true',
    ...testSecrets,
    ...env
  })
}

/** Starts `server.ts` in `cwd` with exactly `env`; resolves once it listens, SIGKILLed at teardown if still running. */
export async function launchServer (t: TestContext, env: NodeJS.ProcessEnv, cwd = process.cwd()): Promise<LoopProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'server.ts'], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  const collect = (chunk: Buffer) => { output = (output + chunk.toString()).slice(-65_536) }
  child.stdout?.on('data', collect)
  child.stderr?.on('data', collect)
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  t.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL')
      await exited
    }
  })
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`Loop did not listen within 60 s:\n${output}`)), 60_000)
    const look = () => {
      const match = /Loop is listening on (http:\/\/\S+)/.exec(output)
      if (match?.[1] !== undefined) {
        clearTimeout(timer)
        resolve(match[1])
      }
    }
    child.stdout?.on('data', look)
    void exited.then((code) => { clearTimeout(timer); reject(new Error(`Loop exited with ${code} before listening:\n${output}`)) })
  })
  return { url, pid: child.pid as number, child, exited, output: () => output }
}

/** Resident set size of a process, from /proc (Linux), in bytes. */
export function residentBytes (pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  if (match?.[1] === undefined) throw new Error(`no VmRSS for ${pid}`)
  return Number(match[1]) * 1024
}

/** Runs `query` on `databaseUrl` with a short-lived connection of its own. */
export async function sql<T extends pg.QueryResultRow = Record<string, unknown>> (databaseUrl: string, query: string, values: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: databaseUrl })
  await client.connect()
  try {
    return (await client.query<T>(query, values)).rows
  } finally {
    await client.end()
  }
}

export interface Answer { status: number, headers: Headers, text: string, json: () => unknown }

/** One HTTP request; the body is read whole so the connection is reused. */
export async function call (url: string, init: RequestInit & { timeoutMs?: number } = {}): Promise<Answer> {
  const { timeoutMs = 30_000, ...rest } = init
  const res = await fetch(url, { ...rest, signal: AbortSignal.timeout(timeoutMs) })
  const text = await res.text()
  return { status: res.status, headers: res.headers, text, json: () => JSON.parse(text) }
}

export const bearer = (key: string) => ({ authorization: `Bearer ${key}`, 'content-type': 'application/json' })

/** A GitHub `issues` delivery signed the way GitHub signs it (X-Hub-Signature-256 over the bytes). */
export function githubDelivery (n: number): { body: string, headers: Record<string, string> } {
  const body = JSON.stringify({
    action: 'opened',
    issue: { number: n, title: `Crash test issue ${n}`, labels: [{ name: n % 2 === 0 ? 'bug' : 'question' }], html_url: `https://github.com/octo/app/issues/${n}` },
    repository: { full_name: 'octo/app', default_branch: 'main' }
  })
  return {
    body,
    headers: {
      'content-type': 'application/json',
      'x-github-event': 'issues',
      'x-github-delivery': `${randomBytes(8).toString('hex')}-${n}`,
      'x-hub-signature-256': signGithubPayload(body, testSecrets.GITHUB_WEBHOOK_SECRET)
    }
  }
}

/** A Sentry issue alert signed the way Sentry signs it (Sentry-Hook-Signature over the bytes). */
export function sentryDelivery (n: number): { body: string, headers: Record<string, string> } {
  const body = JSON.stringify({
    action: 'created',
    data: { issue: { id: `${900_000 + n}`, title: `TypeError: crash ${n}`, level: n % 3 === 0 ? 'fatal' : 'error', count: String(n % 200) } }
  })
  return {
    body,
    headers: {
      'content-type': 'application/json',
      'sentry-hook-resource': 'issue',
      'request-id': `${randomBytes(8).toString('hex')}-${n}`,
      'sentry-hook-signature': signSentryPayload(body, testSecrets.SENTRY_CLIENT_SECRET)
    }
  }
}
