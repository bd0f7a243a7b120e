// Test databases: a migrated template per run, and a fresh clone of it per app a test builds.
import pg from 'pg'
import { randomBytes } from 'node:crypto'
import { migrate, openOrm } from '../lib/db/orm.ts'

export function databaseUrl (serverUrl: string, database: string): string {
  const url = new URL(serverUrl)
  url.pathname = `/${database}`
  return url.toString()
}

async function withAdmin<T> (serverUrl: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: databaseUrl(serverUrl, 'postgres') })
  await client.connect()
  try {
    return await fn(client)
  } finally {
    await client.end()
  }
}

export async function createTemplateDatabase (serverUrl: string, name: string): Promise<void> {
  await withAdmin(serverUrl, (c) => c.query(`create database "${name}"`))
  const url = databaseUrl(serverUrl, name)
  const orm = await openOrm(url)
  try {
    await migrate(orm, url)
  } finally {
    await orm.close()
  }
}

export async function dropDatabase (serverUrl: string, name: string): Promise<void> {
  await withAdmin(serverUrl, (c) => c.query(`drop database if exists "${name}" with (force)`))
}

/** A new database cloned from the run's migrated template; returns its URL and a way to drop it. */
export async function createTestDatabase (): Promise<{ url: string, drop: () => Promise<void> }> {
  const serverUrl = process.env.LOOP_TEST_SERVER_URL
  const template = process.env.LOOP_TEST_TEMPLATE
  if (serverUrl === undefined || template === undefined) {
    throw new Error('run tests with `npm test` (it starts the test database), e.g. `npm test -- test/routes/health.test.ts`')
  }
  const name = `loop_test_${randomBytes(6).toString('hex')}`
  // CREATE DATABASE ... TEMPLATE fails while another session is connected to the template; the
  // template is only touched by the runner, so a retry covers a clone racing another clone.
  for (let attempt = 0; ; attempt++) {
    try {
      await withAdmin(serverUrl, (c) => c.query(`create database "${name}" template "${template}"`))
      break
    } catch (error) {
      if (attempt >= 20) throw error
      await new Promise((r) => setTimeout(r, 50 + Math.random() * 100))
    }
  }
  return { url: databaseUrl(serverUrl, name), drop: () => dropDatabase(serverUrl, name) }
}
