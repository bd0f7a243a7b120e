// Plain node-postgres clients lent by the ORM's own pool, for the hot path where building SQL
// through MikroORM and knex costs more than running it (lib/ingest: knex inlines every parameter,
// a 5 KB payload included, into the SQL text). Same pool, same limits: no second pool to size.
import type { MikroORM } from '@mikro-orm/postgresql'

/** The part of a pg client the raw paths use: parameterized ($1, $2…) queries. */
export interface SqlClient {
  query: <R = Record<string, unknown>>(text: string, values?: unknown[]) => Promise<{ rows: R[], rowCount: number | null }>
}

/** Runs `work` with a connection from the ORM's pool and gives it back, whatever happens. */
export async function withSqlClient<T> (orm: MikroORM, work: (client: SqlClient) => Promise<T>): Promise<T> {
  const knexClient = orm.em.getConnection().getKnex().client
  const client = await knexClient.acquireConnection() as SqlClient
  try {
    return await work(client)
  } finally {
    await knexClient.releaseConnection(client)
  }
}
