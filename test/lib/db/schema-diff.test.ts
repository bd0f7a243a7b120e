// The entities and the hand-written migrations are two descriptions of one schema: after every
// migration has run on a fresh database, MikroORM finds nothing to change for the entities.
import t from 'tap'
import { openOrm } from '../../../lib/db/orm.ts'
import { createTestDatabase } from '../../database.ts'

t.test('the migrated schema is the one the entities describe', async (t) => {
  const database = await createTestDatabase()
  t.teardown(database.drop)
  const orm = await openOrm(database.url)
  t.teardown(async () => await orm.close())
  const diff = await orm.schema.getUpdateSchemaSQL({ wrap: false, safe: false, dropTables: true })
  t.equal(diff.trim(), '', `statements MikroORM would run to match the entities:\n${diff}`)
})
