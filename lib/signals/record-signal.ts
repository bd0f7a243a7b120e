// Ingestion (SPEC sections 4 and 10): a verified provider delivery becomes a signal and its triage
// issue in one statement (inside the transaction that also queues their outbound webhooks), so no
// signal ever exists without its issue. A redelivery creates
// nothing and returns the ids recorded the first time; the unique indexes on `signal` decide what
// a redelivery is, so concurrent copies of one delivery cannot both insert.
import { createHash } from 'node:crypto'
import type { EntityManager } from '@mikro-orm/postgresql'
import type { SignalSource } from '../db/entities/signal.ts'
import { priorityFromSeverity, type SignalMapping } from '../severity/signal-mapping.ts'
import { announceSignal } from '../delivery/announcements.ts'

export interface IncomingSignal {
  source: SignalSource
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
    insert into signal (source, type, severity, source_id, delivery_id, payload, payload_hash)
    values (?, ?, ?, ?, ?, ?::jsonb, ?)
    on conflict do nothing
    returning id
  ), issue_row as (
    insert into issue (type, status, priority, title, description, signal_id)
    select 'signal', 'triage', ?, ?, ?, id from signal_row
    returning id, signal_id
  )
  select signal_id, id as issue_id from issue_row`

const findByDelivery = `
  select s.id as signal_id, i.id as issue_id
  from signal s join issue i on i.signal_id = s.id
  where s.source = ? and s.delivery_id = ?`

const findByContent = `
  select s.id as signal_id, i.id as issue_id
  from signal s join issue i on i.signal_id = s.id
  where s.source = ? and s.delivery_id is null and coalesce(s.source_id, '') = ? and s.payload_hash = ?`

// jsonb cannot hold U+0000 and PostgreSQL rejects the \u0000 escape, so such a payload could never
// be stored. Only that escape (not an escaped backslash followed by "u0000") becomes \ufffd; the
// payload hash still covers the bytes as received.
const nulEscape = /(?<!\\)((?:\\\\)*)\\u0000/g

export function storableJson (raw: Buffer): string {
  const text = raw.toString('utf8')
  return text.includes('\\u0000') ? text.replace(nulEscape, '$1\\ufffd') : text
}

type RecordedRow = { signal_id: string, issue_id: string }

export async function recordSignal (em: EntityManager, incoming: IncomingSignal): Promise<RecordedSignal> {
  const { source, deliveryId, raw, mapping } = incoming
  const payloadHash = createHash('sha256').update(raw).digest('hex')
  const sourceId = mapping.sourceId !== undefined && mapping.sourceId.length <= maxSourceIdLength ? mapping.sourceId : null
  // A transaction around the one statement: signal.created and issue.created are queued for
  // webhook endpoints (the outbox) in it, so the deliveries commit with the signal or not at all.
  const created = await em.transactional(async (tx) => {
    const [row] = await tx.execute<RecordedRow[]>(insertSignalAndIssue, [
      source, mapping.type.slice(0, maxTypeLength), mapping.severity, sourceId, deliveryId ?? null, storableJson(raw), payloadHash,
      priorityFromSeverity(mapping.severity), mapping.title, mapping.description ?? null
    ])
    if (row !== undefined) await announceSignal(tx, row.signal_id, row.issue_id)
    return row
  })
  if (created !== undefined) return { signalId: created.signal_id, issueId: created.issue_id, duplicate: false }
  // A redelivery. Its first copy committed before our insert returned (the unique index made us
  // wait for it), and committed its signal and issue together, so this read sees both.
  const [existing] = deliveryId !== undefined
    ? await em.execute<RecordedRow[]>(findByDelivery, [source, deliveryId])
    : await em.execute<RecordedRow[]>(findByContent, [source, sourceId ?? '', payloadHash])
  if (existing === undefined) throw new Error(`signal conflict for ${source} without a recorded signal`)
  return { signalId: existing.signal_id, issueId: existing.issue_id, duplicate: true }
}
