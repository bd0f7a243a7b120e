// Every MikroORM entity, one file per table beside this one.
import type { EntitySchema } from '@mikro-orm/core'
import { ApiKey } from './api-key.ts'
import { Brand } from './brand.ts'
import { Event } from './event.ts'
import { EventRejection } from './event-rejection.ts'
import { EventType } from './event-type.ts'
import { IdempotencyKey } from './idempotency-key.ts'
import { InboundReceipt } from './inbound-receipt.ts'
import { InboundRoute } from './inbound-route.ts'
import { Issue } from './issue.ts'
import { PortalToken } from './portal-token.ts'
import { Signal } from './signal.ts'
import { WebhookAttempt } from './webhook-attempt.ts'
import { WebhookDelivery } from './webhook-delivery.ts'
import { WebhookEndpoint } from './webhook-endpoint.ts'

export { ApiKey, Brand, PortalToken }

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- MikroORM's own list type is EntitySchema<any>
export const entities: EntitySchema<any>[] = [Signal, Issue, Brand, ApiKey, EventType, Event, IdempotencyKey, InboundRoute, InboundReceipt, EventRejection, WebhookEndpoint, WebhookDelivery, WebhookAttempt, PortalToken]
