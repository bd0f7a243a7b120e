// The entities and the hand-written migrations are two descriptions of one schema: after every
// migration has run on a fresh database, MikroORM finds nothing to change for the entities.
// What the comparison sees (@mikro-orm/knex SchemaComparator): tables, columns (type with its
// precision, nullability, default, identity), primary keys, unique constraints and indexes (by
// name and columns), foreign keys (by name, columns, target and on delete/update rules), check
// constraints (by name and expression) and the `col in (...)` checks, which it reads as enums.
// What it cannot see: an index declared with `expression` (partial, nulls not distinct, desc
// order) is compared by name only, so the entities carry the migration's exact statement and a
// changed expression needs a new index name.
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
