// `npm test`: one PostgreSQL for the whole run (embedded unless DATABASE_URL is set), a migrated
// template database every test file clones, then tap over test/**/*.test.ts.
import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../lib/db/embedded-postgres.ts'
import { createTemplateDatabase, dropDatabase } from './database.ts'

let embedded: EmbeddedDatabase | undefined
let scratch: string | undefined
let serverUrl = process.env.DATABASE_URL
if (serverUrl === undefined || serverUrl === '') {
  scratch = await mkdtemp(join(tmpdir(), 'loop-test-'))
  embedded = await startEmbeddedPostgres({ dataDir: scratch, database: 'postgres', persistent: false })
  serverUrl = embedded.url
}

const template = `loop_template_${randomBytes(4).toString('hex')}`
let code = 1
try {
  await createTemplateDatabase(serverUrl, template)
  code = await new Promise<number>((resolve) => {
    const child = spawn(process.execPath, [join('node_modules', 'tap', 'dist', 'esm', 'run.mjs'), ...process.argv.slice(2)], {
      stdio: 'inherit',
      env: { ...process.env, LOOP_TEST_SERVER_URL: serverUrl, LOOP_TEST_TEMPLATE: template }
    })
    child.on('exit', (exitCode, signal) => resolve(exitCode ?? (signal !== null ? 1 : 0)))
  })
} finally {
  await dropDatabase(serverUrl, template).catch(() => {})
  await embedded?.stop()
  if (scratch !== undefined) await rm(scratch, { recursive: true, force: true })
}
process.exit(code)
