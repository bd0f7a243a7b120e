// A provider webhook as received (docs/signals.md#receiving-a-delivery, docs/operations.md#guarantees): one row per accepted delivery. The
// payload is jsonb parsed by PostgreSQL from the raw text, so integers beyond 2^53 keep every digit.
import { randomUUID } from 'node:crypto'
import { defineEntity, p, type InferEntity } from '@mikro-orm/core'
import type { KeyEnv } from '../../keys/api-key.ts'
import type { Severity } from '../../severity/signal-mapping.ts'

// `loop`: raised by Loop itself (a webhook endpoint that started failing).
export const signalSources = ['github', 'sentry', 'posthog', 'loop'] as const
export type SignalSource = typeof signalSources[number]

export const Signal = defineEntity({
  name: 'Signal',
  tableName: 'signal',
  properties: {
    id: p.uuid().primary().onCreate(() => randomUUID()),
    source: p.string().$type<SignalSource>(),
    type: p.string(),
    severity: p.string().$type<Severity>(),
    sourceId: p.string().nullable(),
    deliveryId: p.string().nullable(),
    // Lazy: lists never carry payloads (they can be up to LOOP_BODY_LIMIT each); one signal does.
    payload: p.json<Record<string, unknown>>().lazy(true, false),
    payloadHash: p.string(),
    // The owner (docs/tenancy.md): provider signals are the operator's live rows (brand null);
    // Loop's own alerts about an endpoint belong to that endpoint's brand and env.
    brandId: p.uuid().nullable(),
    env: p.string().$type<KeyEnv>(),
    /** Set only on copies stored before replays were recognised by payload hash: the first copy. */
    duplicateOf: p.uuid().nullable(),
    createdAt: p.datetime(3).onCreate(() => new Date())
  }
})

export type Signal = InferEntity<typeof Signal>
