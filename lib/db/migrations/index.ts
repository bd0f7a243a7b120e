// Migrations in the order they apply; each file is a MikroORM Migration class.
import type { MigrationObject } from '@mikro-orm/core'
import { Migration20261125100000Signals } from './Migration20261125100000Signals.ts'

export const migrationsList: MigrationObject[] = [
  { name: 'Migration20261125100000Signals', class: Migration20261125100000Signals }
]
