// Migrations in the order they apply; each file is a MikroORM Migration class.
import type { MigrationObject } from '@mikro-orm/core'

export const migrationsList: MigrationObject[] = []
