// The group commit's writer for provider signals (docs/signals.md#receiving-a-delivery, docs/operations.md#guarantees): a batch of verified
// deliveries becomes their signals and triage issues in one statement (usually one round trip and
// one commit for the whole batch), with their outbound webhooks in the same transaction when some
// endpoint may want them, so no signal exists without its issue and no acknowledged delivery is
// uncommitted. Set-based SQL through lib/db/sql.ts: one multi-row statement over unnest()ed
// arrays, instead of per-row ORM calls. Loop's own alerts (lib/outbound/alerts.ts) write their
// one signal through here too, inside the attempt's transaction (recordSignal).
//
// Every item gets the answer it would have got alone:
// - a redelivery of a signal already stored is skipped by the unique indexes and answered with
//   the stored ids (`duplicate: true`), as in lib/signals/record-signal.ts;
// - two copies of one delivery in the same batch are written once; the later copies are answered
//   as duplicates of the first (lib/ingest/copies.ts);
// - a row the database refuses fails the whole statement, so the batch is rolled back and each
//   item is written again on its own: only the bad one fails.
import { randomUUID } from 'node:crypto'
import type { EntityManager, MikroORM } from '@mikro-orm/postgresql'
import { jsonDocuments, sql } from '../db/sql.ts'
import { candidateParams, candidatesSql, enqueueMessages, type CandidateRow } from '../outbound/fan-out.ts'
import type { OutboundMessage } from '../outbound/message.ts'
import { toIssueResource } from '../issues/issue-resource.ts'
import { signalRow, type IncomingSignal, type RecordedSignal, type SignalRow } from '../signals/record-signal.ts'
import { toSignalResource } from '../signals/signal-resource.ts'
import { answerCopies, firstCopies } from './copies.ts'
import type { BatchWriter, ItemOutcome } from './group-commit.ts'

// One statement, so one round trip and PostgreSQL's implicit transaction, for the usual batch:
// signals and issues together, all or nothing. Its last parameter says whether webhook endpoints
// are expected: when it is false and some endpoint of the rows' owners exists (one that might
// receive signal.created or issue.created), the statement writes nothing and says so, and the
// batch is written again inside an explicit transaction that also queues those deliveries (the
// outbox must commit with the signals). The exact subscription rules are applied in JS
// (lib/outbound/fan-out.ts).
//
// Signals are inserted in the order of their dedupe key: two batches that both hold copies of
// deliveries A and B then both wait on A before B, never each on the other (a deadlock that
// PostgreSQL would only break after deadlock_timeout). Issues are numbered in arrival order.
const insertSignalsAndIssues = `
  with input as (
    select t.*, p.payload
      from unnest(?::uuid[], ?::uuid[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[],
                  ?::text[], ?::text[], ?::smallint[], ?::text[], ?::text[], ?::uuid[], ?::text[])
        with ordinality as t(signal_id, issue_id, dedupe_key, source, type, severity, source_id,
                             delivery_id, payload_hash, priority, title, description, brand_id, env, position)
      join jsonb_array_elements(?::jsonb) with ordinality as p(payload, position) on p.position = t.position
  ), endpoints as (${candidatesSql}
  ), proceed as (
    select ?::boolean or not exists (select 1 from endpoints) as written
  ), signal_rows as (
    insert into signal (id, source, type, severity, source_id, delivery_id, payload, payload_hash, brand_id, env)
    select signal_id, source, type, severity, source_id, delivery_id, payload, payload_hash, brand_id, env
      from input where (select written from proceed)
     order by dedupe_key collate "C"
    on conflict do nothing
    returning id, created_at
  ), issue_rows as (
    insert into issue (id, type, status, priority, title, description, signal_id, brand_id, env)
    select input.issue_id, 'signal', 'triage', input.priority, input.title, input.description, input.signal_id, input.brand_id, input.env
      from input join signal_rows on signal_rows.id = input.signal_id
     order by input.position
    returning id, number, signal_id, created_at, updated_at
  ), inserted as (
    select issue_rows.signal_id, issue_rows.id as issue_id, issue_rows.number,
           (extract(epoch from signal_rows.created_at) * 1000)::float8 as signal_created_ms,
           (extract(epoch from issue_rows.created_at) * 1000)::float8 as issue_created_ms,
           (extract(epoch from issue_rows.updated_at) * 1000)::float8 as issue_updated_ms
      from issue_rows join signal_rows on signal_rows.id = issue_rows.signal_id
  )
  -- one row even when nothing was inserted, to carry "written" and the endpoints
  select proceed.written, (select coalesce(json_agg(endpoints), '[]') from endpoints) as endpoints, inserted.*
    from proceed left join inserted on true`

// The first copy of each redelivery, for all the batch's skipped rows at once. A delivery is the
// one with its delivery id, else the one with its body: providers sign the body, not the id, so a
// replay under a fresh id is the same delivery (the unique indexes on signal say so).
const findRecorded = `
  select distinct on (t.position) t.position, s.id as signal_id, i.id as issue_id
    from unnest(?::int[], ?::text[], ?::text[], ?::text[], ?::uuid[], ?::text[]) as t(position, source, delivery_id, payload_hash, brand_id, env)
    join signal s on s.source = t.source and (s.delivery_id = t.delivery_id or (s.payload_hash = t.payload_hash and s.duplicate_of is null))
     and s.brand_id is not distinct from t.brand_id and s.env = t.env
    join issue i on i.signal_id = s.id
   order by t.position, s.delivery_id is not distinct from t.delivery_id desc`

interface StatementRow {
  written: boolean
  endpoints: CandidateRow[]
  /** The rest is null on the row of a statement that inserted nothing. */
  signal_id: string | null
  issue_id: string
  number: number
  signal_created_ms: number
  issue_created_ms: number
  issue_updated_ms: number
}
type InsertedRow = StatementRow & { signal_id: string }

/**
 * What makes two deliveries the same one: the unique indexes on signal that would reject the
 * second, by delivery id and by body. The first key also orders a batch's inserts.
 */
export function dedupeKeys (row: SignalRow): string[] {
  const content = `content ${row.source} ${row.payloadHash}`
  return row.deliveryId !== null ? [`delivery ${row.source} ${row.deliveryId}`, content] : [content]
}

export const dedupeKey = (row: SignalRow): string => dedupeKeys(row)[0] as string

/** The group commit's writer: each batch on its own EntityManager (one pooled connection at a time). */
export function signalBatchWriter (orm: MikroORM): BatchWriter<SignalRow, RecordedSignal> {
  return async (rows) => await writeSignals(orm.em.fork(), rows)
}

/**
 * Records one signal with `em`, in its own transaction or in the caller's (an alert raised while
 * recording a delivery attempt): the batch writer's path, for a batch of one.
 */
export async function recordSignal (em: EntityManager, incoming: IncomingSignal): Promise<RecordedSignal> {
  const [outcome] = await writeSignals(em, [signalRow(incoming)])
  if (outcome === undefined || !outcome.ok) throw outcome?.error ?? new Error('the signal writer reported no outcome')
  return outcome.value
}

/** Writes `rows` as one transaction; if the database refuses it, writes each row on its own. */
export async function writeSignals (em: EntityManager, rows: readonly SignalRow[]): Promise<ItemOutcome<RecordedSignal>[]> {
  // Later copies of a delivery already in this batch are not inserted: they take the first's answer.
  const copyOf = firstCopies(rows, dedupeKeys)
  const unique = [...new Set(copyOf)]

  let written: (RecordedSignal | null)[]
  try {
    written = await insertBatch(em, unique.map((i) => rows[i] as SignalRow))
  } catch (error) {
    if (rows.length === 1) return [{ ok: false, error }]
    // One refused row fails the statement for all: find it by writing each row alone.
    const outcomes: ItemOutcome<RecordedSignal>[] = []
    for (const row of rows) outcomes.push(...await writeSignals(em, [row]))
    return outcomes
  }

  // Committed. Redeliveries of signals stored earlier are answered with the stored ids.
  const byIndex = new Map<number, ItemOutcome<RecordedSignal>>()
  const skipped: number[] = []
  for (const [n, i] of unique.entries()) {
    const inserted = written[n]
    if (inserted !== null && inserted !== undefined) byIndex.set(i, { ok: true, value: inserted })
    else skipped.push(i)
  }
  for (const [i, outcome] of await findExisting(em, rows, skipped)) byIndex.set(i, outcome)
  return answerCopies(copyOf, (first) => byIndex.get(first) ?? { ok: false, error: new Error('signal batch lost an item') })
}

/**
 * Writes the signals and issues, and their signal.created and issue.created deliveries when some
 * endpoint may want them, atomically. Null for a row already stored.
 */
async function insertBatch (em: EntityManager, rows: readonly SignalRow[]): Promise<(RecordedSignal | null)[]> {
  const signalIds = rows.map(() => randomUUID())
  const issueIds = rows.map(() => randomUUID())
  const column = <K extends keyof SignalRow>(key: K) => rows.map((row) => row[key])
  const params = [
    signalIds, issueIds, rows.map(dedupeKey), column('source'), column('type'), column('severity'), column('sourceId'),
    column('deliveryId'), column('payloadHash'), column('priority'), column('title'), column('description'),
    column('brandId'), column('env'), jsonDocuments(column('payload')), ...candidateParams(rows)
  ]
  let result = await sql<StatementRow>(em, insertSignalsAndIssues, [...params, false])
  if (result[0]?.written !== true) {
    // Some endpoint may want these signals: write them again with their deliveries, in one transaction.
    result = await em.transactional(async (tx) => {
      const again = await sql<StatementRow>(tx, insertSignalsAndIssues, [...params, true])
      const inserted = again.filter((row): row is InsertedRow => row.signal_id !== null)
      const bySignal = new Map(inserted.map((row) => [row.signal_id, row]))
      await enqueueMessages(tx, announcements(rows, signalIds, bySignal), again[0]?.endpoints ?? [])
      return again
    })
  }
  const issueOf = new Map(result.map((row) => [row.signal_id, row.issue_id]))
  return signalIds.map((signalId) => {
    const issueId = issueOf.get(signalId)
    return issueId === undefined ? null : { signalId, issueId, duplicate: false }
  })
}

/** signal.created and issue.created for each signal inserted, to the signal's owner's endpoints. */
function announcements (rows: readonly SignalRow[], signalIds: readonly string[], bySignal: ReadonlyMap<string, InsertedRow>): OutboundMessage[] {
  const messages: OutboundMessage[] = []
  const createdAt = new Date().toISOString()
  rows.forEach((row, i) => {
    const signalId = signalIds[i] as string
    const inserted = bySignal.get(signalId)
    if (inserted === undefined) return
    const owner = { brandId: row.brandId, env: row.env }
    const signal = {
      id: signalId, source: row.source, type: row.type, severity: row.severity, sourceId: row.sourceId,
      deliveryId: row.deliveryId, payloadHash: row.payloadHash, createdAt: new Date(inserted.signal_created_ms), ...owner
    }
    const issue = {
      id: inserted.issue_id, number: inserted.number, type: 'signal' as const, status: 'triage' as const, priority: row.priority,
      title: row.title, description: row.description, signalId, assignee: null, claimedBy: null, claimedAt: null, ...owner,
      createdAt: new Date(inserted.issue_created_ms), updatedAt: new Date(inserted.issue_updated_ms)
    }
    // The provider payload stays out of the message (it can be as large as the body limit): GET /api/signals/{id} returns it.
    messages.push(
      { id: randomUUID(), type: 'signal.created', createdAt, dataJson: async () => JSON.stringify(toSignalResource(signal, inserted.issue_id, { payload: false })), ...owner },
      { id: randomUUID(), type: 'issue.created', createdAt, dataJson: async () => JSON.stringify(toIssueResource(issue)), ...owner }
    )
  })
  return messages
}

/**
 * The ids stored by the first copy of each redelivery in `skipped` (indexes into `rows`). That copy
 * committed before our insert skipped the row (the unique index made us wait for it), with its
 * signal and issue together, so both are visible.
 */
async function findExisting (em: EntityManager, rows: readonly SignalRow[], skipped: readonly number[]): Promise<Map<number, ItemOutcome<RecordedSignal>>> {
  const outcomes = new Map<number, ItemOutcome<RecordedSignal>>()
  if (skipped.length === 0) return outcomes
  const of = <K extends keyof SignalRow>(key: K) => skipped.map((i) => (rows[i] as SignalRow)[key])
  try {
    const found = await sql<{ position: number, signal_id: string, issue_id: string }>(em, findRecorded,
      [skipped, of('source'), of('deliveryId'), of('payloadHash'), of('brandId'), of('env')])
    for (const row of found) outcomes.set(row.position, { ok: true, value: { signalId: row.signal_id, issueId: row.issue_id, duplicate: true } })
  } catch (error) {
    for (const i of skipped) outcomes.set(i, { ok: false, error })
    return outcomes
  }
  for (const i of skipped) {
    if (!outcomes.has(i)) outcomes.set(i, { ok: false, error: new Error(`signal conflict for ${(rows[i] as SignalRow).source} without a recorded signal`) })
  }
  return outcomes
}
