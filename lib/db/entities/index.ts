// Every MikroORM entity, one file per table beside this one.
import type { EntitySchema } from '@mikro-orm/core'
import { Issue } from './issue.ts'
import { Signal } from './signal.ts'

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- MikroORM's own list type is EntitySchema<any>
export const entities: EntitySchema<any>[] = [Signal, Issue]
