// The group commit's writer for provider signals (docs/signals.md#receiving-a-delivery, docs/operations.md#guarantees): a batch of verified
// deliveries becomes their signals and triage issues in one statement (usually one round trip and
// one commit for the whole batch), with their outbound webhooks in the same transaction when some
// endpoint may want them, so no signal exists without its issue and no acknowledged delivery is
// uncommitted. Plain SQL on a pg client from the ORM's pool (lib/db/raw-connection.ts): one
// multi-row statement over unnest()ed arrays, instead of per-row ORM calls.
//
// Every item gets the answer it would have got alone:
// - a redelivery of a signal already stored is skipped by the unique indexes and answered with
//   the stored ids (`duplicate: true`), as in lib/signals/record-signal.ts;
// - two copies of one delivery in the same batch are written once; the later copies are answered
//   as duplicates of the first;
// - a row the database refuses fails the whole statement, so the batch is rolled back and each
//   item is written again on its own: only the bad one fails.
import { randomUUID } from 'node:crypto'
import type { MikroORM } from '@mikro-orm/postgresql'
import { withSqlClient, type SqlClient } from '../db/raw-connection.ts'
import { brandlessLiveCandidatesSql, enqueueForCandidates, type CandidateRow, type MessageContent } from '../delivery/fan-out.ts'
import { toIssueResource } from '../issues/issue-resource.ts'
import { findRecordedSignal, type RecordedSignal, type SignalRow } from '../signals/record-signal.ts'
import { toSignalResource } from '../signals/signal-resource.ts'
import type { BatchWriter, ItemOutcome } from './group-commit.ts'
import { providerOwner } from '../tenancy/caller.ts'

// One statement, so one round trip and PostgreSQL's implicit transaction, for the usual batch:
// signals and issues together, all or nothing. Its last parameter says whether webhook endpoints
// are expected: when it is false and some brandless live endpoint exists (one that might receive
// signal.created or issue.created), the statement writes nothing and says so, and the batch is
// written again inside an explicit transaction that also queues those deliveries (the outbox must
// commit with the signals). Endpoints are locked against deletion until then, as in
// lib/delivery/fan-out.ts; the exact subscription rules are applied in JS (enqueueForCandidates).
//
// Signals are inserted in the order of their dedupe key: two batches that both hold copies of
// deliveries A and B then both wait on A before B, never each on the other (a deadlock that
// PostgreSQL would only break after deadlock_timeout). Issues are numbered in arrival order.
const insertSignalsAndIssues = `
  with input as (
    select * from unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
                         $8::text[], $9::text[], $10::text[], $11::smallint[], $12::text[], $13::text[])
      with ordinality as t(signal_id, issue_id, dedupe_key, source, type, severity, source_id,
                           delivery_id, payload, payload_hash, priority, title, description, position)
  ), endpoints as (${brandlessLiveCandidatesSql}
  ), proceed as (
    select $14::boolean or not exists (select 1 from endpoints) as written
  ), signal_rows as (
    insert into signal (id, source, type, severity, source_id, delivery_id, payload, payload_hash, brand_id, env)
    select signal_id, source, type, severity, source_id, delivery_id, payload::jsonb, payload_hash, null, 'live'
      from input where (select written from proceed)
     order by dedupe_key collate "C"
    on conflict do nothing
    returning id, created_at
  ), issue_rows as (
    insert into issue (id, type, status, priority, title, description, signal_id, brand_id, env)
    select input.issue_id, 'signal', 'triage', input.priority, input.title, input.description, input.signal_id, null, 'live'
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

/**
 * The group commit's writer: each batch on one pooled connection. Provider webhooks are all it
 * writes, so every row is the operator's live one (providerOwner, docs/tenancy.md): the statement
 * writes that owner, and the endpoints it considers are the operator's live ones.
 */
export function signalBatchWriter (orm: MikroORM): BatchWriter<SignalRow, RecordedSignal> {
  return async (rows) => {
    if (rows.some((row) => row.brandId !== providerOwner.brandId || row.env !== providerOwner.env)) throw new Error('the signal batch writes provider signals only')
    return await withSqlClient(orm, async (client) => await writeSignals(client, rows))
  }
}

/** Writes `rows` as one transaction; if the database refuses it, writes each row on its own. */
export async function writeSignals (client: SqlClient, rows: readonly SignalRow[]): Promise<ItemOutcome<RecordedSignal>[]> {
  // Later copies of a delivery already in this batch are not inserted: they take the first's answer.
  const firstOfKey = new Map<string, number>()
  const copyOf = rows.map((row, i) => {
    const keys = dedupeKeys(row)
    const first = keys.map((key) => firstOfKey.get(key)).find((index) => index !== undefined) ?? i
    for (const key of keys) if (!firstOfKey.has(key)) firstOfKey.set(key, first)
    return first
  })
  const unique = [...new Set(copyOf)]

  let written: (RecordedSignal | null)[]
  try {
    written = await insertBatch(client, unique.map((i) => rows[i] as SignalRow))
  } catch (error) {
    if (rows.length === 1) return [{ ok: false, error }]
    // One refused row fails the statement for all: find it by writing each row alone.
    const outcomes: ItemOutcome<RecordedSignal>[] = []
    for (const row of rows) outcomes.push(...await writeSignals(client, [row]))
    return outcomes
  }

  // Committed. Redeliveries of signals stored earlier are answered with the stored ids.
  const byIndex = new Map<number, ItemOutcome<RecordedSignal>>()
  for (const [n, i] of unique.entries()) {
    const inserted = written[n]
    byIndex.set(i, inserted !== null && inserted !== undefined
      ? { ok: true, value: inserted }
      : await findExisting(client, rows[i] as SignalRow))
  }
  return rows.map((_, i) => {
    const first = copyOf[i] ?? i
    const outcome = byIndex.get(first) ?? { ok: false, error: new Error('signal batch lost an item') }
    if (first === i || !outcome.ok) return outcome
    return { ok: true, value: { ...outcome.value, duplicate: true } }
  })
}

/**
 * Writes the signals and issues, and their signal.created and issue.created deliveries when some
 * endpoint may want them, atomically. Null for a row already stored.
 */
async function insertBatch (client: SqlClient, rows: readonly SignalRow[]): Promise<(RecordedSignal | null)[]> {
  const signalIds = rows.map(() => randomUUID())
  const issueIds = rows.map(() => randomUUID())
  const column = <K extends keyof SignalRow>(key: K) => rows.map((row) => row[key])
  const params = [
    signalIds, issueIds, rows.map(dedupeKey), column('source'), column('type'), column('severity'), column('sourceId'),
    column('deliveryId'), column('payload'), column('payloadHash'), column('priority'), column('title'), column('description')
  ]
  let { rows: result } = await client.query<StatementRow>(insertSignalsAndIssues, [...params, false])
  if (result[0]?.written !== true) {
    // Some endpoint may want these signals: write them again with their deliveries, in one transaction.
    await client.query('begin')
    try {
      result = (await client.query<StatementRow>(insertSignalsAndIssues, [...params, true])).rows
      const inserted = result.filter((row): row is InsertedRow => row.signal_id !== null)
      const bySignal = new Map(inserted.map((row) => [row.signal_id, row]))
      await enqueueForCandidates(client, result[0]?.endpoints ?? [], { env: 'live', brandId: null }, announcements(rows, signalIds, bySignal))
      await client.query('commit')
    } catch (error) {
      await client.query('rollback').catch(() => {})
      throw error
    }
  }
  const issueOf = new Map(result.map((row) => [row.signal_id, row.issue_id]))
  return signalIds.map((signalId) => {
    const issueId = issueOf.get(signalId)
    return issueId === undefined ? null : { signalId, issueId, duplicate: false }
  })
}

/** signal.created and issue.created for each signal inserted (lib/delivery/announcements.ts, for a batch). */
function announcements (rows: readonly SignalRow[], signalIds: readonly string[], bySignal: ReadonlyMap<string, InsertedRow>): MessageContent[] {
  const messages: MessageContent[] = []
  const createdAt = new Date().toISOString()
  rows.forEach((row, i) => {
    const signalId = signalIds[i] as string
    const inserted = bySignal.get(signalId)
    if (inserted === undefined) return
    const signal = {
      id: signalId, source: row.source, type: row.type, severity: row.severity, sourceId: row.sourceId,
      deliveryId: row.deliveryId, payloadHash: row.payloadHash, createdAt: new Date(inserted.signal_created_ms), ...providerOwner
    }
    const issue = {
      id: inserted.issue_id, number: inserted.number, type: 'signal' as const, status: 'triage' as const, priority: row.priority,
      title: row.title, description: row.description, signalId, assignee: null, claimedBy: null, claimedAt: null, ...providerOwner,
      createdAt: new Date(inserted.issue_created_ms), updatedAt: new Date(inserted.issue_updated_ms)
    }
    messages.push(
      { id: randomUUID(), type: 'signal.created', createdAt, dataJson: async () => JSON.stringify(toSignalResource(signal, inserted.issue_id, { payload: false })) },
      { id: randomUUID(), type: 'issue.created', createdAt, dataJson: async () => JSON.stringify(toIssueResource(issue)) }
    )
  })
  return messages
}

/** The ids stored by the first copy of a redelivery, as an item's outcome. */
async function findExisting (client: SqlClient, row: SignalRow): Promise<ItemOutcome<RecordedSignal>> {
  try {
    return { ok: true, value: await findRecordedSignal(async (sql, params) => (await client.query<{ signal_id: string, issue_id: string }>(sql, params)).rows, row) }
  } catch (error) {
    return { ok: false, error }
  }
}
