// `npm start` as an operator runs it: embedded PostgreSQL under LOOP_DATA_DIR, data kept across
// restarts, a clean stop on SIGTERM (sent to Loop, and sent to `npm start` as a container's stop
// does), and a clean start after the previous process was killed -9.
import t from 'tap'
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { freePort } from '../lib/db/embedded-postgres.ts'

// Five starts of a real Loop, a first one running initdb: more than tap's default file timeout on
// a loaded machine.
t.setTimeout(300_000)

const dataDir = await mkdtemp(join(tmpdir(), 'loop-server-'))
t.teardown(() => rm(dataDir, { recursive: true, force: true }))

interface Running { child: ChildProcess, url: string, exited: Promise<number | null>, output: () => string }

/** Loop on `dataDir`, started as `node --import tsx server.ts` unless `command` says otherwise. */
async function start ({ command = [process.execPath, '--import', 'tsx', 'server.ts'], logLevel = 'warn' } = {}): Promise<Running> {
  const [file = '', ...args] = command
  const child = spawn(file, args, {
    cwd: join(import.meta.dirname, '..'),
    env: { ...process.env, DATABASE_URL: '', PORT: '0', LOOP_DATA_DIR: dataDir, LOG_LEVEL: logLevel },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  let output = ''
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no listening line in 60s:\n${output}`)), 60_000)
    const onData = (chunk: Buffer) => {
      output += chunk.toString()
      const match = /Loop is listening on (http:\/\/\S+)/.exec(output)
      if (match?.[1] !== undefined) { clearTimeout(timer); resolve(match[1]) }
    }
    child.stdout?.on('data', onData)
    child.stderr?.on('data', onData)
    void exited.then((code) => reject(new Error(`exited with ${code}:\n${output}`)))
  })
  return { child, url, exited, output: () => output }
}

async function postmasterPid (): Promise<number | null> {
  const file = join(dataDir, 'pg', 'postmaster.pid')
  if (!existsSync(file)) return null
  return Number((await readFile(file, 'utf8')).split('\n')[0])
}

async function sql (query: string): Promise<pg.QueryResult> {
  const credentials = JSON.parse(await readFile(join(dataDir, 'pg-credentials.json'), 'utf8')) as { user: string, password: string }
  const port = Number((await readFile(join(dataDir, 'pg', 'postmaster.pid'), 'utf8')).split('\n')[3])
  const client = new pg.Client({ host: '127.0.0.1', port, user: credentials.user, password: credentials.password, database: 'loop' })
  await client.connect()
  try { return await client.query(query) } finally { await client.end() }
}

function alive (pid: number): boolean {
  try { process.kill(pid, 0); return true } catch { return false }
}

t.test('first start initialises the database, /ready is 200, SIGTERM stops Loop and PostgreSQL', async (t) => {
  const loop = await start()
  const ready = await fetch(`${loop.url}/ready`)
  t.equal(ready.status, 200)
  await sql('create table operator_note (body text)')
  await sql("insert into operator_note values ('kept across restarts')")
  const pid = await postmasterPid()
  t.ok(pid !== null && alive(pid), 'embedded PostgreSQL is running')
  loop.child.kill('SIGTERM')
  t.equal(await loop.exited, 0, 'exit code 0 after SIGTERM')
  t.notOk(pid !== null && alive(pid), 'embedded PostgreSQL stopped with Loop')
})

t.test('a restart keeps the data', async (t) => {
  const loop = await start()
  t.equal((await fetch(`${loop.url}/ready`)).status, 200)
  const rows = await sql('select body from operator_note')
  t.same(rows.rows, [{ body: 'kept across restarts' }])
  loop.child.kill('SIGTERM')
  t.equal(await loop.exited, 0)
})

t.test('after kill -9 the next start reclaims the orphaned PostgreSQL and keeps the data', async (t) => {
  const first = await start()
  const orphan = await postmasterPid()
  first.child.kill('SIGKILL')
  await first.exited
  t.ok(orphan !== null && alive(orphan), 'PostgreSQL outlived the killed Loop')
  const second = await start()
  t.equal((await fetch(`${second.url}/ready`)).status, 200)
  t.same((await sql('select body from operator_note')).rows, [{ body: 'kept across restarts' }])
  second.child.kill('SIGTERM')
  t.equal(await second.exited, 0)
  t.notOk(orphan !== null && alive(orphan), 'the orphan is gone')
})

t.test('SIGTERM to `npm start` reaches Loop: the drain is logged, Loop and PostgreSQL are gone within 15 s', async (t) => {
  // On the data directory the tests above initialised: a start without initdb, as a restarted container's.
  const npm = await start({ command: ['npm', 'start'], logLevel: 'info' })
  t.equal((await fetch(`${npm.url}/ready`)).status, 200)
  // Loop's own pid, from its log lines: a process under npm, not npm itself.
  const loopPid = Number(/"pid":(\d+)/.exec(npm.output())?.[1])
  t.ok(loopPid > 0 && loopPid !== npm.child.pid && alive(loopPid), 'Loop runs as its own process under npm')
  const pgPid = await postmasterPid()
  t.ok(pgPid !== null && alive(pgPid), 'embedded PostgreSQL is running')

  const sent = Date.now()
  npm.child.kill('SIGTERM')
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<'timeout'>((resolve) => { timer = setTimeout(() => resolve('timeout'), 15_000) })
  const code = await Promise.race([npm.exited, deadline])
  clearTimeout(timer)
  t.equal(code, 0, `npm start exits 0 after SIGTERM (in ${Date.now() - sent} ms)`)
  t.notOk(alive(loopPid), 'Loop is gone, not orphaned')
  t.notOk(pgPid !== null && alive(pgPid), 'embedded PostgreSQL is gone')
  t.match(npm.output(), /"signal":"SIGTERM"[^\n]*"msg":"shutting down"/, 'the drain logged its line')
  // On a failure, leave nothing behind.
  for (const pid of [npm.child.pid, loopPid, pgPid]) if (typeof pid === 'number' && pid > 0 && alive(pid)) process.kill(pid, 'SIGKILL')
})

t.test('a DATABASE_URL that cannot be used is named in one line, without its password', async (t) => {
  const serverUrl = new URL(process.env.LOOP_TEST_SERVER_URL ?? '')
  const wrongPassword = new URL(serverUrl)
  wrongPassword.password = 'not-the-Pa55word'
  const refused = new URL(`postgres://loop:refused-Pa55word@127.0.0.1:${await freePort()}/loop`)
  for (const url of [wrongPassword, refused]) {
    const result = spawnSync(process.execPath, ['--import', 'tsx', 'server.ts'], {
      env: { ...process.env, DATABASE_URL: url.toString(), PORT: '0', LOG_LEVEL: 'warn' },
      encoding: 'utf8',
      timeout: 60_000
    })
    t.equal(result.status, 1, result.stderr)
    t.match(result.stderr, /^Loop failed to start: DATABASE_URL: cannot connect to PostgreSQL \(.+\)\n$/)
    t.notOk(result.stderr.includes(url.password) || result.stdout.includes(url.password), 'the password is not printed')
  }
})
