// The two packages as a user gets them: `npm pack` in a copy of the repository that has never been
// built (so `prepack` must build, or the tarballs would be empty), the tarballs installed into an
// empty project offline (npm ci from a lockfile whose other entries are this repository's, so the
// npm cache npm ci filled has them all), then:
// - `import` and `require` of both packages, each in its own node process;
// - a TypeScript consumer (strict, nodenext, exactOptionalPropertyTypes), ESM and CommonJS files
//   (skipLibCheck, as most projects have it: attw in CI checks the declarations themselves);
// - every ```ts block of the README, compiled by that same consumer.
import t from 'tap'
import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import { cp, mkdir, mkdtemp, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

const root = fileURLToPath(new URL('../..', import.meta.url))
const run = promisify(execFile)
const npmEnv = { ...process.env, npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' }

// Two builds, an install and a compile: slow on a busy machine.
t.setTimeout(300_000)

const scratch = await mkdtemp(join(tmpdir(), 'loop-pack-'))
t.teardown(() => rm(scratch, { recursive: true, force: true }))

/** A copy of what the packages' build reads, without any dist/, beside this checkout's node_modules. */
async function unbuiltCopy (): Promise<string> {
  const copy = join(scratch, 'repo')
  for (const entry of ['package.json', 'tsconfig.json', 'lib', 'generated', 'scripts', 'packages']) {
    await cp(join(root, entry), join(copy, entry), { recursive: true, filter: (source) => !/[/\\](dist|node_modules)$/.test(source) })
  }
  // node_modules: this checkout's packages, with the workspace links pointing into the copy.
  await mkdir(join(copy, 'node_modules', '@loop'), { recursive: true })
  for (const name of await readdir(join(root, 'node_modules'))) {
    if (name !== '@loop' && name !== '.bin') await symlink(join(root, 'node_modules', name), join(copy, 'node_modules', name))
  }
  for (const name of ['contracts', 'sdk']) await symlink(join(copy, 'packages', name), join(copy, 'node_modules', '@loop', name))
  return copy
}

interface LockEntry { version?: string, resolved?: string, integrity?: string, dependencies?: Record<string, string>, peerDependencies?: Record<string, string>, peerDependenciesMeta?: Record<string, { optional?: boolean }>, [key: string]: unknown }

/**
 * The consumer's lockfile: the two tarballs, and for everything they depend on the entry this
 * repository's lockfile has (same place in the tree), so npm ci needs nothing but its cache.
 */
async function consumerLock (tarballs: Record<string, { file: string, manifest: LockEntry }>): Promise<object> {
  const lock = JSON.parse(await readFile(join(root, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> }
  const packages: Record<string, LockEntry> = {}
  const dependencies: Record<string, string> = {}
  const visit = (at: string, entry: LockEntry) => {
    const wanted = { ...entry.dependencies }
    for (const [name, range] of Object.entries(entry.peerDependencies ?? {})) if (entry.peerDependenciesMeta?.[name]?.optional !== true) wanted[name] = range
    for (const name of Object.keys(wanted)) {
      if (tarballs[name] !== undefined) continue
      // Node's lookup: the nearest node_modules up from the dependent.
      let key: string | undefined
      for (let dir = at; ; dir = dir.slice(0, Math.max(0, dir.lastIndexOf('/node_modules/')))) {
        const candidate = `${dir === '' ? '' : `${dir}/`}node_modules/${name}`
        if (lock.packages[candidate] !== undefined) { key = candidate; break }
        if (dir === '') break
      }
      if (key === undefined) throw new Error(`${name} (needed by ${at || 'the consumer'}) is not in package-lock.json`)
      if (packages[key] !== undefined) continue
      const { dev: _dev, devOptional: _devOptional, ...kept } = lock.packages[key] as LockEntry
      packages[key] = kept
      visit(key, kept)
    }
  }
  for (const [name, { file, manifest }] of Object.entries(tarballs)) {
    const integrity = `sha512-${createHash('sha512').update(await readFile(file)).digest('base64')}`
    dependencies[name] = `file:${file}`
    packages[`node_modules/${name}`] = { version: manifest.version, resolved: `file:${file}`, integrity, ...(manifest.dependencies === undefined ? {} : { dependencies: manifest.dependencies }) }
  }
  for (const [name, { manifest }] of Object.entries(tarballs)) visit(`node_modules/${name}`, manifest)
  return { name: 'consumer', lockfileVersion: 3, requires: true, packages: { '': { name: 'consumer', dependencies }, ...packages } }
}

const copy = await unbuiltCopy()
const tarballDir = join(scratch, 'tarballs')
await mkdir(tarballDir)
const tarballs: Record<string, { file: string, manifest: LockEntry }> = {}
const packed: Record<string, string[]> = {}
for (const name of ['contracts', 'sdk']) {
  const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', tarballDir], { cwd: join(copy, 'packages', name), env: npmEnv, maxBuffer: 16 * 1024 * 1024 })
  const [info] = JSON.parse(stdout.slice(stdout.indexOf('['))) as Array<{ name: string, filename: string, files: Array<{ path: string }> }>
  if (info === undefined) throw new Error(`npm pack printed no result for ${name}`)
  packed[info.name] = info.files.map((f) => f.path)
  tarballs[info.name] = { file: join(tarballDir, info.filename), manifest: JSON.parse(await readFile(join(copy, 'packages', name, 'package.json'), 'utf8')) as LockEntry }
}

const consumer = join(scratch, 'consumer')
await mkdir(consumer)
const lock = await consumerLock(tarballs) as { packages: { '': { dependencies: Record<string, string> } } }
await writeFile(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', private: true, dependencies: lock.packages[''].dependencies }, null, 2))
await writeFile(join(consumer, 'package-lock.json'), JSON.stringify(lock, null, 2))
await run('npm', ['ci', '--offline', '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: consumer, env: npmEnv })

t.test('npm pack builds first: both tarballs hold ESM, CommonJS and the declarations of each', async (t) => {
  for (const name of ['@loop/contracts', '@loop/sdk']) {
    const files = packed[name] ?? []
    for (const file of ['dist/esm/index.js', 'dist/esm/index.d.ts', 'dist/cjs/index.js', 'dist/cjs/index.d.ts', 'dist/cjs/package.json', 'package.json']) {
      t.ok(files.includes(file), `${name} ships ${file}`)
    }
    t.notOk(files.some((f) => f.startsWith('src/')), `${name} ships no sources`)
  }
})

const lead = "{ eventId: '550e8400-e29b-41d4-a716-446655440000', occurredAt: '2026-05-19T12:00:00Z', brandId: '7d0c5a4e-2f6b-4c1e-9a63-5f0f8f1f2b11', email: 'user@example.com', source: 'inbound_lead', attribution: {} }"
const probe = (load: (name: string) => string) => `
const contracts = ${load('@loop/contracts')}
const sdk = ${load('@loop/sdk')}
const secret = 'whsec_' + btoa('0123456789abcdef0123456789abcdef')
const body = JSON.stringify({ id: 'msg_1', type: 'lead.captured.v1', createdAt: new Date().toISOString(), data: {} })
const verified = sdk.verifyWebhook(body, { 'webhook-id': 'msg_1', 'webhook-timestamp': String(Math.floor(Date.now() / 1000)), 'webhook-signature': 'v1,AAAA' }, secret)
  .then(() => 'valid', (error) => error.code)
verified.then((webhook) => console.log(JSON.stringify({
  valid: contracts.validateEvent('lead.captured.v1', ${lead}).success,
  issues: sdk.validateEvent('lead.captured.v1', {}).error.issues.length,
  client: typeof sdk.createClient({ baseUrl: 'http://127.0.0.1:9' }).paginate,
  loopError: new sdk.LoopError(429, 'RATE_LIMITED', 'slow down') instanceof Error,
  webhook
})))
`

t.test('import and require both load both packages, each its own build', async (t) => {
  await writeFile(join(consumer, 'esm.mjs'), probe((name) => `await import('${name}')`) + `console.log(import.meta.resolve('@loop/sdk'), import.meta.resolve('@loop/contracts'))\n`)
  await writeFile(join(consumer, 'cjs.cjs'), probe((name) => `require('${name}')`) + `console.log(require.resolve('@loop/sdk'), require.resolve('@loop/contracts'))\n`)
  const expected = { valid: true, issues: 6, client: 'function', loopError: true, webhook: 'invalid_signature' }
  for (const [file, format] of [['esm.mjs', 'esm'], ['cjs.cjs', 'cjs']] as const) {
    const { stdout } = await run(process.execPath, [file], { cwd: consumer })
    const [resolved, result] = stdout.trim().split('\n')
    t.same(JSON.parse(result ?? 'null'), expected, `${file}: the packages work`)
    t.match(resolved, new RegExp(`node_modules/@loop/sdk/dist/${format}/index\\.js .*node_modules/@loop/contracts/dist/${format}/index\\.js$`), `${file} loads dist/${format}`)
  }
})

const consumerTypes = `
import { createClient, LoopError, verifyWebhook, type ErrorCode, type LoopClientOptions, type Schemas } from '@loop/sdk'
import { eventTypes, validateEvent, type EventName, type EventPayload } from '@loop/contracts'

const options: LoopClientOptions = { baseUrl: 'http://127.0.0.1:3000', apiKey: process.env.LOOP_API_KEY, timeoutMs: 10_000, retryDelaysMs: [100, 1000] }
export const loop = createClient(options)
export const code: ErrorCode = 'IDEMPOTENCY_KEY_REUSED'
// @ts-expect-error the code is the contract's union, not any string
export const notACode: ErrorCode = 'I_AM_A_TEAPOT'
export const failure: ErrorCode | 'UNEXPECTED_RESPONSE' = new LoopError(422, 'VALIDATION_ERROR', 'bad').code
export const name: EventName = 'lead.captured.v1'
export const required: boolean = eventTypes['lead.captured.v1'].email.required
const checked = validateEvent('lead.captured.v1', {})
if (checked.success) {
  const payload: EventPayload<'lead.captured.v1'> = checked.data
  const email: string = payload.email
  const source: 'vsl_form' | 'quiz_completion' | 'inbound_lead' | 'other' = payload.source
  const personId: string | null | undefined = payload.personId
  console.log(email, source, personId)
} else {
  console.log(checked.error.issues.map((issue) => issue.path))
}
export const message: Promise<Schemas['WebhookMessage']> = verifyWebhook('{}', new Headers(), 'whsec_x')
`

t.test('a strict, nodenext, exactOptionalPropertyTypes TypeScript project compiles against both, as ESM and as CommonJS, and so do the README\'s snippets', async (t) => {
  const readme = await readFile(join(root, 'README.md'), 'utf8')
  const snippets = [...readme.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((match) => match[1] as string)
  t.ok(snippets.length >= 2, `the README has TypeScript snippets (${snippets.length})`)
  const files = ['consumer.mts', 'consumer.cts', ...snippets.map((_, i) => `readme-${i + 1}.mts`)]
  await writeFile(join(consumer, 'consumer.mts'), consumerTypes)
  await writeFile(join(consumer, 'consumer.cts'), consumerTypes)
  for (const [i, snippet] of snippets.entries()) await writeFile(join(consumer, `readme-${i + 1}.mts`), `${snippet}\nexport {}\n`)
  await writeFile(join(consumer, 'tsconfig.json'), JSON.stringify({
    compilerOptions: {
      strict: true,
      module: 'nodenext',
      moduleResolution: 'nodenext',
      target: 'es2022',
      exactOptionalPropertyTypes: true,
      noUncheckedIndexedAccess: true,
      noEmit: true,
      skipLibCheck: true,
      typeRoots: [join(root, 'node_modules', '@types')],
      types: ['node']
    },
    files
  }, null, 2))
  const compiled = await run(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', consumer], { cwd: consumer }).then(() => '', (error: { stdout?: string }) => error.stdout ?? String(error))
  const snippetErrors = compiled.split('\n').filter((line) => line.startsWith('readme-')).map((line) => {
    const [, n, lineNo] = /^readme-(\d+)\.mts\((\d+)/.exec(line) ?? []
    return `README snippet ${n}, line ${lineNo}: ${line.slice(line.indexOf(': ') + 2)}`
  })
  t.same(snippetErrors, [], 'every README snippet compiles')
  t.equal(compiled, '', 'tsc reports nothing')
})
