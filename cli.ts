// `npm run loop -- <command>`: operator tasks against the configured database.
import { ConfigError, loadConfig } from './lib/config.ts'
import { startEmbeddedPostgres } from './lib/db/embedded-postgres.ts'
import { migrate, openOrm } from './lib/db/orm.ts'

const usage = `usage: npm run loop -- <command>

commands:
  migrate    apply pending database migrations and exit`

async function withDatabase<T> (fn: (url: string) => Promise<T>): Promise<T> {
  const config = loadConfig()
  if (config.databaseUrl !== undefined) return await fn(config.databaseUrl)
  const embedded = await startEmbeddedPostgres({ dataDir: config.dataDir })
  try {
    return await fn(embedded.url)
  } finally {
    await embedded.stop()
  }
}

const commands: Record<string, (args: string[]) => Promise<void>> = {
  migrate: async () => {
    await withDatabase(async (url) => {
      const orm = await openOrm(url)
      try {
        const applied = await migrate(orm, url)
        console.log(applied.length === 0 ? 'no pending migrations' : `applied: ${applied.join(', ')}`)
      } finally {
        await orm.close()
      }
    })
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
  if (error instanceof ConfigError) {
    for (const problem of error.problems) console.error(`config: ${problem}`)
  } else {
    console.error(`loop ${name}: ${error instanceof Error ? error.message : String(error)}`)
  }
  process.exit(1)
}
