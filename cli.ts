// `npm run loop -- <command>`: operator tasks against the configured database.
// The database modules are imported when a command needs them, so a mistyped command line is
// answered at once instead of after loading the ORM.
import { parseArgs } from 'node:util'
import type { MikroORM } from '@mikro-orm/postgresql'
import { isKeyEnv, isKeyTier, isScope, keyEnvs, keyTiers, scopes, type Scope } from './lib/keys/api-key.ts'
import type { ApiKeyView } from './lib/keys/key-service.ts'

const usage = `usage: npm run loop -- <command>

commands:
  migrate                  apply pending database migrations and exit
  keys create --name NAME --env ENV --scopes S1,S2 [--tier TIER] [--brand BRAND_ID]
                           create an API key and print its secret (shown this once)
  keys list [--brand BRAND_ID]
                           list keys (prefix only; secrets are never stored)
  keys revoke KEY_ID       revoke a key; it is refused from its next request on

  ENV is one of ${keyEnvs.join(', ')}; TIER one of ${keyTiers.join(', ')} (default standard)
  scopes: ${scopes.join(', ')}`

/** A mistake in the command line: printed with the usage, exit code 2. */
class UsageError extends Error {}

async function withDatabase<T> (fn: (url: string) => Promise<T>): Promise<T> {
  const { loadConfig } = await import('./lib/config.ts')
  const config = loadConfig()
  if (config.databaseUrl !== undefined) {
    const { checkConnection } = await import('./lib/db/orm.ts')
    await checkConnection(config.databaseUrl, 'DATABASE_URL')
    return await fn(config.databaseUrl)
  }
  const { startEmbeddedPostgres } = await import('./lib/db/embedded-postgres.ts')
  const embedded = await startEmbeddedPostgres({ dataDir: config.dataDir })
  try {
    return await fn(embedded.url)
  } finally {
    await embedded.stop()
  }
}

/** Runs `fn` on a migrated database, so `keys` works on a fresh install too. */
async function withOrm<T> (fn: (orm: MikroORM) => Promise<T>): Promise<T> {
  const { migrate, openOrm } = await import('./lib/db/orm.ts')
  return await withDatabase(async (url) => {
    const orm = await openOrm(url)
    try {
      await migrate(orm, url)
      return await fn(orm)
    } finally {
      await orm.close()
    }
  })
}

function parseKeyCreate (args: string[]) {
  const { values } = parseArgs({ args, options: { name: { type: 'string' }, env: { type: 'string' }, scopes: { type: 'string' }, tier: { type: 'string', default: 'standard' }, brand: { type: 'string' } } })
  if (values.name === undefined || values.name.trim() === '') throw new UsageError('keys create needs --name')
  if (values.env === undefined || !isKeyEnv(values.env)) throw new UsageError(`--env must be one of ${keyEnvs.join(', ')}`)
  if (!isKeyTier(values.tier)) throw new UsageError(`--tier must be one of ${keyTiers.join(', ')}`)
  const wanted = (values.scopes ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '')
  if (wanted.length === 0) throw new UsageError('keys create needs --scopes, e.g. --scopes events:write,events:read')
  const unknown = wanted.filter((s) => !isScope(s))
  if (unknown.length > 0) throw new UsageError(`unknown scope${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}`)
  if (values.brand !== undefined && !/^[0-9a-f-]{36}$/i.test(values.brand)) throw new UsageError('--brand must be a brand id (a UUID)')
  return { name: values.name.trim(), env: values.env, scopes: [...new Set(wanted)] as Scope[], tier: values.tier, brandId: values.brand }
}

function describe (key: ApiKeyView): string {
  const state = key.revokedAt === null ? 'active' : `revoked ${key.revokedAt}`
  return [key.id, key.prefix, key.env, key.tier, key.scopes.join(','), key.brandId ?? '-', key.lastUsedAt ?? 'never used', state, key.name].join('\t')
}

const keyCommands: Record<string, (args: string[]) => Promise<void>> = {
  create: async (args) => {
    const input = parseKeyCreate(args)
    const { createKey } = await import('./lib/keys/key-service.ts')
    const key = await withOrm((orm) => createKey(orm.em.fork(), input))
    console.log(`created ${key.prefix} (${key.id})`)
    console.log(`secret: ${key.secret}`)
    console.log('Store the secret now: it is shown this once and Loop keeps only its hash.')
  },
  list: async (args) => {
    const { values } = parseArgs({ args, options: { brand: { type: 'string' } } })
    const { listKeys } = await import('./lib/keys/key-service.ts')
    const filters = values.brand === undefined ? {} : { brandId: values.brand }
    const keys = await withOrm(async (orm) => {
      const all = []
      for (let iterator: string | undefined; ;) {
        const page = await listKeys(orm.em.fork(), 'any', filters, { limit: 250, iterator })
        all.push(...page.data)
        if (page.iterator === null) return all
        iterator = page.iterator
      }
    })
    if (keys.length === 0) console.log('no keys')
    else console.log(['id', 'prefix', 'env', 'tier', 'scopes', 'brand', 'last used', 'state', 'name'].join('\t') + '\n' + keys.map(describe).join('\n'))
  },
  revoke: async (args) => {
    const { positionals } = parseArgs({ args, allowPositionals: true })
    const id = positionals[0]
    if (id === undefined || positionals.length > 1) throw new UsageError('keys revoke needs exactly one key id')
    if (!/^[0-9a-f-]{36}$/i.test(id)) throw new UsageError(`"${id}" is not a key id (a UUID, see keys list)`)
    const { revokeKey } = await import('./lib/keys/key-service.ts')
    const key = await withOrm((orm) => revokeKey(orm.em.fork(), id, 'any'))
    console.log(`revoked ${key.prefix} (${key.id}) at ${key.revokedAt ?? ''}`)
  }
}

const commands: Record<string, (args: string[]) => Promise<void>> = {
  migrate: async () => {
    const { migrate, openOrm } = await import('./lib/db/orm.ts')
    await withDatabase(async (url) => {
      const orm = await openOrm(url)
      try {
        const applied = await migrate(orm, url)
        console.log(applied.length === 0 ? 'no pending migrations' : `applied: ${applied.join(', ')}`)
      } finally {
        await orm.close()
      }
    })
  },
  keys: async ([sub, ...args]) => {
    const command = sub === undefined ? undefined : keyCommands[sub]
    if (command === undefined) throw new UsageError(sub === undefined ? 'keys needs a subcommand: create, list or revoke' : `unknown keys subcommand "${sub}"`)
    await command(args)
  }
}

const [name, ...args] = process.argv.slice(2)
const command = name === undefined ? undefined : commands[name]
if (command === undefined) {
  console.error(name === undefined ? usage : `unknown command "${name}"\n\n${usage}`)
  process.exit(2)
}
try {
  await command(args)
} catch (error) {
  if (error instanceof UsageError || (error instanceof TypeError && (error as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS') === true)) {
    console.error(`loop ${name}: ${error.message}\n\n${usage}`)
    process.exit(2)
  }
  const { ConfigError } = await import('./lib/config.ts')
  if (error instanceof ConfigError) {
    for (const problem of error.problems) console.error(`config: ${problem}`)
  } else {
    console.error(`loop ${name}: ${error instanceof Error ? error.message : String(error)}`)
  }
  process.exit(1)
}
