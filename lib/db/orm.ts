// MikroORM on PostgreSQL: one place that knows the entities, the migrations and how to apply them.
import { MikroORM, type Options } from '@mikro-orm/postgresql'
import { Migrator } from '@mikro-orm/migrations'
import pg from 'pg'
import { entities } from './entities/index.ts'
import { migrationsList } from './migrations/index.ts'

// Any constant works; it only has to be the same for every Loop sharing a database.
const MIGRATION_LOCK = 7_310_001

export function ormOptions (clientUrl: string, pool: { min?: number, max?: number } = {}): Options {
  return {
    clientUrl,
    entities,
    extensions: [Migrator],
    // silent: the migrator would print to stdout itself; plugins/database.ts logs what was applied.
    migrations: { migrationsList, transactional: true, allOrNothing: true, snapshot: false, tableName: 'loop_migrations', silent: true },
    discovery: { warnWhenNoEntities: false },
    allowGlobalContext: false,
    forceUtcTimezone: true,
    pool: { min: pool.min ?? 0, max: pool.max ?? 20 },
    // Loop's reads are index scans of one owner's rows in order. With the default
    // random_page_cost (4, priced for spinning disks) the planner rewards an index whose order
    // follows the heap, and walks the env-wide index past another tenant's fresh burst of rows to
    // find a brand's first page (7 ms instead of 0.1; docs/operations.md#list-indexes). 1.1 is
    // PostgreSQL's advice for SSDs and memory-resident data; it is set for Loop's sessions only.
    //
    // A request waits at most 5 s for a connection (knex's default is a minute), so a database
    // host that drops packets answers 503 NOT_READY in seconds rather than holding every request
    // (lib/db/unreachable.ts); a connection attempt that hangs is abandoned after 10 s.
    driverOptions: { acquireConnectionTimeout: 5000, connection: { options: '-c random_page_cost=1.1', connectionTimeoutMillis: 10_000 } },
    debug: false
  }
}

/**
 * Connects once and, when that fails, says so naming `variable` (DATABASE_URL) and the socket's or
 * the server's reason: the ORM would report a bare "connect ECONNREFUSED" that names no setting.
 * The URL is never repeated, as it holds the password.
 */
export async function checkConnection (clientUrl: string, variable: string): Promise<void> {
  const client = new pg.Client({ connectionString: clientUrl, connectionTimeoutMillis: 10_000 })
  try {
    await client.connect()
  } catch (error) {
    throw new Error(`${variable}: cannot connect to PostgreSQL (${reasonOf(error)})`)
  } finally {
    await client.end().catch(() => {})
  }
}

function reasonOf (error: unknown): string {
  // A host name with several addresses fails with an AggregateError whose own message is empty.
  if (error instanceof AggregateError && error.errors.length > 0) return error.errors.map(reasonOf).join('; ')
  if (error instanceof Error) return error.message !== '' ? error.message : (error as NodeJS.ErrnoException).code ?? error.name
  return String(error)
}

export async function openOrm (clientUrl: string): Promise<MikroORM> {
  return await MikroORM.init(ormOptions(clientUrl))
}

/** Applies pending migrations; concurrent instances serialize on an advisory lock. Returns names applied. */
export async function migrate (orm: MikroORM, clientUrl: string): Promise<string[]> {
  const lock = new pg.Client({ connectionString: clientUrl })
  await lock.connect()
  try {
    await lock.query('select pg_advisory_lock($1)', [MIGRATION_LOCK])
    const applied = await orm.getMigrator().up()
    return applied.map((m) => m.name)
  } finally {
    await lock.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => {})
    await lock.end()
  }
}

export async function pendingMigrations (orm: MikroORM): Promise<number> {
  return (await orm.getMigrator().getPendingMigrations()).length
}
