// `npm run loop -- keys …` as an operator runs it, against a real database.
import t from 'tap'
import { spawn } from 'node:child_process'
import { freePort } from '../lib/db/embedded-postgres.ts'
import { createTestDatabase } from './database.ts'

const database = await createTestDatabase()
t.teardown(() => database.drop())

async function loop (...args: string[]): Promise<{ code: number | null, stdout: string, stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'cli.ts', ...args], {
    env: { ...process.env, DATABASE_URL: database.url, LOG_LEVEL: 'silent' },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString() })
  child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve))
  return { code, stdout, stderr }
}

t.test('keys create prints the secret once; list shows the prefix; revoke revokes', async (t) => {
  const created = await loop('keys', 'create', '--name', 'ci', '--env', 'test', '--scopes', 'events:read,events:write', '--tier', 'premium')
  t.equal(created.code, 0, created.stderr)
  const secret = /secret: (lk_test_[0-9A-Za-z]{40})/.exec(created.stdout)?.[1]
  const id = /\(([0-9a-f-]{36})\)/.exec(created.stdout)?.[1]
  t.ok(secret !== undefined && id !== undefined, created.stdout)

  const listed = await loop('keys', 'list')
  t.equal(listed.code, 0, listed.stderr)
  t.match(listed.stdout, new RegExp(`${id as string}\\t${(secret as string).slice(0, 12)}\\ttest\\tpremium\\tevents:read,events:write\\t-\\tnever used\\tactive\\tci`))
  t.notOk(listed.stdout.includes((secret as string).slice(12)), 'the secret is not listed')

  const revoked = await loop('keys', 'revoke', id as string)
  t.equal(revoked.code, 0, revoked.stderr)
  t.match(revoked.stdout, /^revoked lk_test_\w{4} \(.*\) at 20\d\d-/)
})

t.test('mistakes print what is wrong and the usage, exit 2', async (t) => {
  const cases: [string[], RegExp][] = [
    [['keys'], /keys needs a subcommand/],
    [['keys', 'rotate'], /unknown keys subcommand "rotate"/],
    [['keys', 'create', '--env', 'live', '--scopes', 'admin'], /keys create needs --name/],
    [['keys', 'create', '--name', 'x', '--env', 'prod', '--scopes', 'admin'], /--env must be one of live, test, dev/],
    [['keys', 'create', '--name', 'x', '--env', 'live', '--scopes', 'admin,root'], /unknown scope root/],
    [['keys', 'create', '--name', 'x', '--env', 'live', '--scopes', 'admin', '--colour', 'red'], /Unknown option '--colour'/],
    [['keys', 'revoke', 'abc'], /"abc" is not a key id/]
  ]
  for (const [args, message] of cases) {
    const result = await loop(...args)
    t.equal(result.code, 2, args.join(' '))
    t.match(result.stderr, message)
    t.match(result.stderr, /usage: npm run loop -- <command>/)
  }
})

t.test('an unknown key is exit 1 with a one-line reason', async (t) => {
  const revoke = await loop('keys', 'revoke', '00000000-0000-4000-8000-000000000000')
  t.equal(revoke.code, 1)
  t.equal(revoke.stderr.trim(), 'loop keys: API key 00000000-0000-4000-8000-000000000000 not found')
})

t.test('an unreachable DATABASE_URL is exit 1 naming the variable, never its password', async (t) => {
  const child = spawn(process.execPath, ['--import', 'tsx', 'cli.ts', 'migrate'], {
    env: { ...process.env, DATABASE_URL: `postgres://loop:cli-Pa55word@127.0.0.1:${await freePort()}/loop`, LOG_LEVEL: 'silent' },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let output = ''
  child.stdout.on('data', (chunk: Buffer) => { output += chunk.toString() })
  child.stderr.on('data', (chunk: Buffer) => { output += chunk.toString() })
  t.equal(await new Promise<number | null>((resolve) => child.on('exit', resolve)), 1)
  t.match(output, /^loop migrate: DATABASE_URL: cannot connect to PostgreSQL \(.*ECONNREFUSED.*\)\n$/)
  t.notOk(output.includes('cli-Pa55word'))
})
