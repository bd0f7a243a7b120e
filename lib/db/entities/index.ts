// Every MikroORM entity, one file per table beside this one.
import type { EntitySchema } from '@mikro-orm/core'
import { Event } from './event.ts'
import { EventRejection } from './event-rejection.ts'
import { InboundRoute } from './inbound-route.ts'
import { EventType } from './event-type.ts'
import { IdempotencyKey } from './idempotency-key.ts'

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- MikroORM's own list type is EntitySchema<any>
export const entities: EntitySchema<any>[] = [EventType, Event, IdempotencyKey, InboundRoute, EventRejection]
