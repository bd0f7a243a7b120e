// A provider webhook as received (docs/signals.md#receiving-a-delivery, docs/operations.md#guarantees): one row per accepted delivery. The
// payload is jsonb parsed by PostgreSQL from the raw text, so integers beyond 2^53 keep every digit.
import { randomUUID } from 'node:crypto'
import { defineEntity, p, type InferEntity } from '@mikro-orm/core'
import type { Severity } from '../../severity/signal-mapping.ts'
import { Brand } from './brand.ts'

// `loop`: raised by Loop itself (a webhook endpoint that started failing).
export const signalSources = ['github', 'sentry', 'posthog', 'loop'] as const
export type SignalSource = typeof signalSources[number]

export const Signal = defineEntity({
  name: 'Signal',
  tableName: 'signal',
  properties: {
    id: p.uuid().primary().onCreate(() => randomUUID()).defaultRaw('gen_random_uuid()'),
    source: p.text().$type<SignalSource>(),
    type: p.text(),
    severity: p.enum(['critical', 'high', 'medium', 'low']).$type<Severity>(),
    sourceId: p.text().nullable(),
    deliveryId: p.text().nullable(),
    // Lazy: lists never carry payloads (they can be up to LOOP_BODY_LIMIT each); one signal does.
    payload: p.json<Record<string, unknown>>().lazy(true, false),
    payloadHash: p.text(),
    // The owner (docs/tenancy.md): provider signals are the operator's live rows (brand null);
    // Loop's own alerts about an endpoint belong to that endpoint's brand and env.
    brandId: p.manyToOne(Brand).mapToPk().nullable().fieldName('brand_id').foreignKeyName('signal_brand_id_fkey').deleteRule('no action').updateRule('no action'),
    env: p.enum(['live', 'test', 'dev']),
    /** Set only on copies stored before replays were recognised by payload hash: the first copy (a foreign key, declared below). */
    duplicateOf: p.uuid().nullable(),
    createdAt: p.datetime(3).onCreate(() => new Date()).defaultRaw('now()')
  },
  uniques: [
    // A redelivery is recognised by the provider's delivery id, or by its payload hash when it is a
    // replay under a fresh id (lib/db/migrations/Migration20261202110000SignalReplays.ts).
    { name: 'signal_delivery_unique', expression: 'create unique index signal_delivery_unique on signal (source, delivery_id) where delivery_id is not null' },
    { name: 'signal_payload_unique', expression: 'create unique index signal_payload_unique on signal (source, payload_hash) where duplicate_of is null' }
  ],
  indexes: [
    { name: 'signal_env_recent', expression: 'create index signal_env_recent on signal (env, created_at desc, id desc)' },
    { name: 'signal_owner_recent', expression: 'create index signal_owner_recent on signal (brand_id, env, created_at desc, id desc)' }
  ],
  checks: [
    { name: 'signal_source_check', expression: "source ~ '^[a-z][a-z0-9_-]{0,31}$'" },
    { name: 'signal_type_check', expression: 'char_length(type) >= 1 and char_length(type) <= 200' },
    { name: 'signal_source_id_check', expression: 'char_length(source_id) <= 500' },
    { name: 'signal_delivery_id_check', expression: 'char_length(delivery_id) >= 1 and char_length(delivery_id) <= 200' },
    { name: 'signal_payload_hash_check', expression: "payload_hash ~ '^[0-9a-f]{64}$'" }
  ]
})

// The entity cannot name itself in its own definition: duplicate_of becomes a many-to-one here,
// still read and written as the first copy's id (mapToPk).
Signal.addManyToOne('duplicateOf', 'Signal', {
  fieldName: 'duplicate_of', mapToPk: true, nullable: true, foreignKeyName: 'signal_duplicate_of_fkey', deleteRule: 'no action', updateRule: 'no action'
})

export type Signal = InferEntity<typeof Signal>
