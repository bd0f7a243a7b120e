// Ingestion (docs/signals.md#receiving-a-delivery, docs/operations.md#guarantees): a verified provider delivery becomes a signal and its triage
// issue in one statement (inside the transaction that also queues their outbound webhooks), so no
// signal ever exists without its issue. A redelivery creates
// nothing and returns the ids recorded the first time; the unique indexes on `signal` decide what
// a redelivery is, so concurrent copies of one delivery cannot both insert.
import { createHash } from 'node:crypto'
import type { EntityManager } from '@mikro-orm/postgresql'
import type { SignalSource } from '../db/entities/signal.ts'
import { priorityFromSeverity, type SignalMapping } from '../severity/signal-mapping.ts'
import { announceSignal } from '../delivery/announcements.ts'
import { sql } from '../db/sql.ts'
import type { Owner } from '../tenancy/caller.ts'

export interface IncomingSignal {
  source: SignalSource
  /** Whose it is: the operator's live rows for provider webhooks (providerOwner), an endpoint's owner for Loop's alerts. */
  owner: Owner
  /** The provider's delivery id when it sends one (X-GitHub-Delivery, Sentry Request-ID). */
  deliveryId: string | undefined
  /** The body exactly as received. */
  raw: Buffer
  mapping: SignalMapping
}

export interface RecordedSignal {
  signalId: string
  issueId: string
  duplicate: boolean
}

// Bounds the table's checks enforce; a provider's text beyond them is clipped or dropped here
// rather than turning a valid delivery into a 500 that the provider would retry forever.
const maxTypeLength = 200
const maxSourceIdLength = 500

// One statement, two inserts: PostgreSQL runs a statement as one transaction, so the issue insert
// failing rolls the signal insert back with it, and the pair costs one round trip instead of four
// (BEGIN, two INSERTs, COMMIT). `on conflict do nothing` without a target covers both dedupe
// indexes; when it skips the signal, `issue` inserts nothing and no row comes back.
const insertSignalAndIssue = `
  with signal_row as (
    insert into signal (source, type, severity, source_id, delivery_id, payload, payload_hash, brand_id, env)
    values (?, ?, ?, ?, ?, ?::jsonb, ?, ?, ?)
    on conflict do nothing
    returning id, brand_id, env
  ), issue_row as (
    insert into issue (type, status, priority, title, description, signal_id, brand_id, env)
    select 'signal', 'triage', ?, ?, ?, id, brand_id, env from signal_row
    returning id, signal_id
  )
  select signal_id, id as issue_id from issue_row`

// In node-postgres's $n form; the EntityManager path turns them into knex's `?` (same order, so
// each $n appears once). A delivery is the one with its delivery id, else the one with
// its body: providers sign the body, not the id, so a replay under a fresh id is the same delivery.
const findRecorded = `
  select s.id as signal_id, i.id as issue_id
  from signal s join issue i on i.signal_id = s.id
  where s.source = $1 and (s.delivery_id = $2 or (s.payload_hash = $3 and s.duplicate_of is null))
  order by s.delivery_id is not distinct from $4 desc
  limit 1`

type RecordedRow = { signal_id: string, issue_id: string }

/**
 * The ids a redelivery's first copy recorded. That copy committed before our insert skipped the
 * row (the unique index made us wait for it), with its signal and issue together, so both are
 * visible. `run` executes a $n-parameterized query on whichever connection the caller holds.
 */
export async function findRecordedSignal (run: (sql: string, params: unknown[]) => Promise<RecordedRow[]>, row: SignalRow): Promise<RecordedSignal> {
  const [existing] = await run(findRecorded, [row.source, row.deliveryId, row.payloadHash, row.deliveryId])
  if (existing === undefined) throw new Error(`signal conflict for ${row.source} without a recorded signal`)
  return { signalId: existing.signal_id, issueId: existing.issue_id, duplicate: true }
}

// jsonb cannot hold U+0000 and PostgreSQL rejects the \u0000 escape, so such a payload could never
// be stored. Only that escape (not an escaped backslash followed by "u0000") becomes \ufffd; the
// payload hash still covers the bytes as received.
const nulEscape = /(?<!\\)((?:\\\\)*)\\u0000/g

export function storableJson (raw: Buffer): string {
  const text = raw.toString('utf8')
  return text.includes('\\u0000') ? text.replace(nulEscape, '$1\\ufffd') : text
}

/** The columns of a signal and its triage issue, as both ingestion paths insert them. */
export interface SignalRow {
  source: SignalSource
  type: string
  severity: SignalMapping['severity']
  sourceId: string | null
  deliveryId: string | null
  payload: string
  payloadHash: string
  priority: 1 | 2 | 3 | 4
  title: string
  description: string | null
  brandId: string | null
  env: Owner['env']
}

export function signalRow (incoming: IncomingSignal): SignalRow {
  const { source, deliveryId, raw, mapping, owner } = incoming
  return {
    brandId: owner.brandId,
    env: owner.env,
    source,
    type: mapping.type.slice(0, maxTypeLength),
    severity: mapping.severity,
    sourceId: mapping.sourceId !== undefined && mapping.sourceId.length <= maxSourceIdLength ? mapping.sourceId : null,
    deliveryId: deliveryId ?? null,
    payload: storableJson(raw),
    payloadHash: createHash('sha256').update(raw).digest('hex'),
    priority: priorityFromSeverity(mapping.severity),
    title: mapping.title,
    description: mapping.description ?? null
  }
}

/**
 * Records one signal with `em`, in its own transaction or in the caller's (an alert raised while
 * recording a delivery attempt). Provider webhooks go through the group commit (lib/ingest) instead.
 */
export async function recordSignal (em: EntityManager, incoming: IncomingSignal): Promise<RecordedSignal> {
  const row = signalRow(incoming)
  // A transaction around the one statement: signal.created and issue.created are queued for
  // webhook endpoints (the outbox) in it, so the deliveries commit with the signal or not at all.
  const created = await em.transactional(async (tx) => {
    const [inserted] = await sql<RecordedRow>(tx, insertSignalAndIssue, [
      row.source, row.type, row.severity, row.sourceId, row.deliveryId, row.payload, row.payloadHash, row.brandId, row.env,
      row.priority, row.title, row.description
    ])
    if (inserted !== undefined) await announceSignal(tx, incoming.owner, inserted.signal_id, inserted.issue_id)
    return inserted
  })
  if (created !== undefined) return { signalId: created.signal_id, issueId: created.issue_id, duplicate: false }
  return await findRecordedSignal(async (text, params) => await sql<RecordedRow>(em, text.replace(/\$\d+/g, '?'), params), row)
}
