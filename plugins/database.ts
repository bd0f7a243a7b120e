// The store: MikroORM on PostgreSQL (DATABASE_URL, or an embedded PostgreSQL under LOOP_DATA_DIR),
// migrations applied before the server listens, and a forked EntityManager per request.
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import type { EntityManager, MikroORM } from '@mikro-orm/postgresql'
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../lib/db/embedded-postgres.ts'
import { checkConnection, migrate, openOrm } from '../lib/db/orm.ts'

declare module 'fastify' {
  interface FastifyInstance {
    orm: MikroORM
    /** The PostgreSQL URL in use (embedded or DATABASE_URL). */
    databaseUrl: string
  }
  interface FastifyRequest {
    /** A fork of the ORM's EntityManager, made on first use and private to this request. */
    em: EntityManager
  }
}

const kEm = Symbol('loop.em')

async function databasePlugin (fastify: FastifyInstance): Promise<void> {
  let embedded: EmbeddedDatabase | undefined
  let url = fastify.config.databaseUrl
  if (url !== undefined) {
    await checkConnection(url, 'DATABASE_URL')
  } else {
    embedded = await startEmbeddedPostgres({
      dataDir: fastify.config.dataDir,
      log: (message) => fastify.log.debug({ component: 'embedded-postgres' }, message)
    })
    url = embedded.url
    fastify.log.info({ dataDir: fastify.config.dataDir, postgresDataDir: embedded.pgDir, note: embedded.note }, 'embedded PostgreSQL started')
  }
  let orm: MikroORM
  try {
    orm = await openOrm(url)
    const applied = await migrate(orm, url)
    if (applied.length > 0) fastify.log.info({ migrations: applied }, 'migrations applied')
  } catch (error) {
    await embedded?.stop()
    throw error
  }

  fastify.decorate('orm', orm)
  fastify.decorate('databaseUrl', url)
  fastify.decorateRequest('em', {
    getter () {
      const request = this as unknown as { [kEm]?: EntityManager }
      request[kEm] ??= orm.em.fork()
      return request[kEm]
    }
  })
  fastify.addHook('onClose', async () => {
    await orm.close()
    await embedded?.stop()
  })
}

export default fp(databasePlugin, { name: 'loop-database', dependencies: ['loop-config'], fastify: '5.x' })
