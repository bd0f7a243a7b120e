// `npm test`: one PostgreSQL for the whole run (embedded unless DATABASE_URL is set), a migrated
// template database every test file clones, then tap over test/**/*.test.ts. Redis is needed only
// by the Redis test files: without CI and without a reachable Redis they are left out (said so
// loudly); in CI they always run, so a missing Redis fails them. Every app the tests build checks
// its responses against the contract (plugins/response-contract.ts); after tap, every departure is
// printed and fails the run.
//
// Two test files run at once (package.json "tap.jobs"; tap's own default leaves one of two cores
// idle): most files spend their time waiting on PostgreSQL, a child process or a browser, so a
// second one fills that wait. Tests that bound a computation's cost measure CPU time
// (test/cpu-time.ts), which another file's work cannot inflate.
import { spawn } from 'node:child_process'
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { createConnection } from 'node:net'
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../lib/db/embedded-postgres.ts'
import { loadContract } from '../lib/contract/openapi.ts'
import { contractSnapshot, type ContractViolation } from '../plugins/response-contract.ts'
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

/** Prints the violations the apps reported, the same one once with its count; returns how many there were. */
async function reportContractViolations (directory: string): Promise<number> {
  const seen = new Map<string, { count: number, files: Set<string>, path: string }>()
  let total = 0
  for (const name of (await readdir(directory)).filter((file) => file.endsWith('.jsonl'))) {
    for (const line of (await readFile(join(directory, name), 'utf8')).split('\n')) {
      if (line === '') continue
      const violation = JSON.parse(line) as ContractViolation
      for (const problem of violation.problems) {
        total++
        const key = `${violation.operationId} (${violation.method} ${violation.status}): ${problem}`
        const entry = seen.get(key) ?? { count: 0, files: new Set<string>(), path: violation.path }
        entry.count++
        entry.files.add(violation.file)
        seen.set(key, entry)
      }
    }
  }
  if (total === 0) {
    console.log('# contract: every response matched openapi/loop.yaml')
    return 0
  }
  console.log(`\n# contract: ${total} response problem${total === 1 ? '' : 's'} (${seen.size} distinct) where the server departs from openapi/loop.yaml:`)
  for (const [key, { count, files, path }] of [...seen].sort(([a], [b]) => a.localeCompare(b))) {
    console.log(`#   ${key} ×${count}, e.g. ${path}, from ${[...files].sort().join(', ')}`)
  }
  return total
}

const tapRunner = join('node_modules', 'tap', 'dist', 'esm', 'run.mjs')

/** Runs tap with `args`, its output kept unless `quiet`; resolves with its exit code and what it printed. */
async function tap (args: string[], options: { quiet?: boolean, env?: NodeJS.ProcessEnv } = {}): Promise<{ code: number, stdout: string }> {
  return await new Promise((resolve) => {
    const child = spawn(process.execPath, [tapRunner, ...args], { stdio: ['ignore', options.quiet === true ? 'pipe' : 'inherit', 'inherit'], env: options.env ?? process.env })
    let stdout = ''
    child.stdout?.on('data', (chunk: Buffer) => { stdout += chunk.toString() })
    child.on('exit', (exitCode, signal) => resolve({ code: exitCode ?? (signal !== null ? 1 : 0), stdout }))
  })
}

/**
 * tap runs test files with the loaders of the plugin set its test class was built with. After
 * `npm ci` that is tap's default set, @tapjs/typescript included, which package.json leaves out
 * (tsx loads TypeScript here). `tap run` rebuilds for the configured set, but only after it has
 * chosen the loaders of the old build for every file: each would load ts-node besides tsx, 5 to
 * 7 s a file on this machine, most of a CI run. So the build is brought up to date first.
 */
async function buildTapPlugins (): Promise<void> {
  const built = await readFile(join('node_modules', '@tapjs', 'test', 'test-built', 'dist', 'esm', 'index.js'), 'utf8').catch(() => '')
  const builtSignature = /^export const signature = `([^`]*)`/m.exec(built)?.[1]
  const configured = await tap(['plugin', 'list'], { quiet: true })
  if (configured.code === 0 && builtSignature?.trim() === configured.stdout.trim()) return
  console.log('# tap: building the test class for the configured plugins (package.json "tap.plugin")')
  if ((await tap(['build'], { quiet: true })).code !== 0) throw new Error('tap build failed')
}

const template = `loop_template_${randomBytes(4).toString('hex')}`
const violations = await mkdtemp(join(tmpdir(), 'loop-contract-'))
let code = 1
try {
  await Promise.all([buildTapPlugins(), createTemplateDatabase(serverUrl, template)])
  await writeFile(join(violations, contractSnapshot), JSON.stringify((await loadContract()).document))
  ;({ code } = await tap(tapArgs, { env: { ...process.env, LOOP_TEST_SERVER_URL: serverUrl, LOOP_TEST_TEMPLATE: template, LOOP_CONTRACT_VIOLATIONS: violations } }))
  if (await reportContractViolations(violations) > 0) {
    console.log('# contract violations fail the run: fix the server or openapi/loop.yaml')
    code = code === 0 ? 1 : code
  }
} finally {
  await rm(violations, { recursive: true, force: true })
  await dropDatabase(serverUrl, template).catch(() => {})
  await embedded?.stop()
  if (scratch !== undefined) await rm(scratch, { recursive: true, force: true })
}
process.exit(code)
