// The embedded PostgreSQL's first start: its superuser password reaches initdb through a file
// that only PostgreSQL's user may read, inside the data directory, gone once initdb is done.
import t from 'tap'
import { readFileSync, readdirSync, statSync, watch } from 'node:fs'
import { chmod, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startEmbeddedPostgres } from '../../../lib/db/embedded-postgres.ts'

interface Sighting { path: string, mode: number, text: string }

/** Every regular file that appears in `dirs` (top level), read the moment it is created or written. */
function recordFiles (dirs: string[]): { sightings: Sighting[], close: () => void } {
  const sightings: Sighting[] = []
  const watchers = dirs.map((dir) => watch(dir, (_event, name) => {
    if (name === null) return
    const path = join(dir, name)
    try {
      const stats = statSync(path)
      if (stats.isFile()) sightings.push({ path, mode: stats.mode & 0o777, text: readFileSync(path, 'utf8') })
    } catch {
      // Already removed again: what it held was read on an earlier event, if it held anything.
    }
  }))
  return { sightings, close: () => { for (const watcher of watchers) watcher.close() } }
}

t.test('the initdb password file is private to PostgreSQL, inside the data directory, and removed', async (t) => {
  const scratch = await mkdtemp(join(tmpdir(), 'loop-pwfile-'))
  t.teardown(() => rm(scratch, { recursive: true, force: true }))
  const dataDir = join(scratch, 'data')
  const temp = join(scratch, 'tmp')
  await mkdir(dataDir)
  await mkdir(temp)
  // Laid out like /tmp, so that run as root PostgreSQL's own user can reach both folders.
  await chmod(scratch, 0o755)
  await chmod(temp, 0o1777)
  // os.tmpdir() follows TMPDIR, so whatever a library writes "to the temp folder" lands here.
  const previousTmp = process.env.TMPDIR
  process.env.TMPDIR = temp
  t.teardown(() => { if (previousTmp === undefined) delete process.env.TMPDIR; else process.env.TMPDIR = previousTmp })

  const recorder = recordFiles([dataDir, temp])
  try {
    const database = await startEmbeddedPostgres({ dataDir })
    await database.stop()
  } finally {
    recorder.close()
  }
  const { password } = JSON.parse(await readFile(join(dataDir, 'pg-credentials.json'), 'utf8')) as { password: string }

  const holding = recorder.sightings.filter((s) => s.text.includes(password))
  t.ok(holding.length > 0, 'the password file was seen while initdb ran')
  for (const sighting of holding) {
    t.ok(sighting.path.startsWith(dataDir + '/'), `${sighting.path} is inside the data directory`)
    t.equal(sighting.mode & 0o077, 0, `${sighting.path} (mode ${sighting.mode.toString(8)}) is not readable by group or others`)
  }
  t.same(readdirSync(temp), [], 'nothing is left in the temp folder')
  const left = readdirSync(dataDir).filter((name) => {
    const path = join(dataDir, name)
    return statSync(path).isFile() && readFileSync(path, 'utf8').includes(password)
  })
  t.same(left, ['pg-credentials.json'], 'only the credentials Loop keeps hold the password afterwards')
  t.equal(statSync(join(dataDir, 'pg-credentials.json')).mode & 0o777, 0o600)
})

// A stop() that waits for the exit that came before never returns: the subtest's timeout fails it.
t.test('stop() returns when PostgreSQL is already gone (killed under Loop), instead of waiting for an exit that came before', { timeout: 20_000 }, async (t) => {
  const dataDir = await mkdtemp(join(tmpdir(), 'loop-gone-'))
  await chmod(dataDir, 0o755)
  t.teardown(() => rm(dataDir, { recursive: true, force: true }))
  const database = await startEmbeddedPostgres({ dataDir, persistent: false })
  const postmaster = Number(readFileSync(join(database.pgDir, 'postmaster.pid'), 'utf8').split('\n')[0])
  const exited = new Promise<void>((resolve) => {
    const check = setInterval(() => {
      try { process.kill(postmaster, 0) } catch { clearInterval(check); resolve() }
    }, 20)
  })
  process.kill(postmaster, 'SIGKILL')
  await exited
  await database.stop()
  t.pass('stopped')
})
