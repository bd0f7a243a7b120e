// `npm test`: one PostgreSQL for the whole run (embedded unless DATABASE_URL is set), a migrated
// template database every test file clones, then tap over test/**/*.test.ts. Redis is needed only
// by the Redis test files: without CI and without a reachable Redis they are left out (said so
// loudly); in CI they always run, so a missing Redis fails them.
import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { createConnection } from 'node:net'
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

async function redisAnswers (url: string): Promise<boolean> {
  const { hostname, port } = new URL(url)
  return await new Promise((resolve) => {
    const socket = createConnection({ host: hostname, port: Number(port || 6379), timeout: 1000 })
    socket.once('connect', () => socket.write('PING\r\n'))
    socket.once('data', (chunk) => { socket.destroy(); resolve(chunk.toString().startsWith('+PONG')) })
    socket.once('timeout', () => { socket.destroy(); resolve(false) })
    socket.once('error', () => resolve(false))
  })
}

const tapArgs = process.argv.slice(2)
const redisUrl = process.env.LOOP_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'
if (process.env.CI === undefined && !await redisAnswers(redisUrl)) {
  console.log(`# Redis is not reachable at ${redisUrl}: the Redis test files are not run here (CI always runs them).`)
  console.log('# Start redis-server, or set LOOP_TEST_REDIS_URL, to run them locally.')
  tapArgs.push('--exclude=test/**/*redis*.test.ts')
}

const template = `loop_template_${randomBytes(4).toString('hex')}`
let code = 1
try {
  await createTemplateDatabase(serverUrl, template)
  code = await new Promise<number>((resolve) => {
    const child = spawn(process.execPath, [join('node_modules', 'tap', 'dist', 'esm', 'run.mjs'), ...tapArgs], {
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
