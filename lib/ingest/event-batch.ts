// The group commit's writer for events (docs/events.md, docs/operations.md#guarantees): POST
// /api/events, the inbound receivers (/webhooks/*) and the replay of a kept rejection all store
// their validated event here, and requests arriving together share one transaction:
//   1. one statement claims the inbound receipts, inserts the events and selects the endpoints
//      that may receive them (lib/outbound/fan-out.ts);
//   2. one lookup finds what the skipped duplicates were stored as (only when some were skipped);
//   3. one insert queues every delivery of the batch;
//   4. one statement points the receipts at their events, records each claimed Idempotency-Key's
//      answer (sealed, lib/idempotency) and marks replayed rejections;
// then COMMIT, and each request is answered with exactly what it would have got alone:
// - an eventId (or a provider delivery) already stored answers the stored event, `duplicate: true`;
// - copies within the batch are written once; the later ones are answered as duplicates
//   (lib/ingest/copies.ts);
// - a provider delivery another transaction has claimed but not stored answers 409;
// - if the database refuses the batch, each item is written again on its own: only the bad one fails.
//
// Receipts and events are inserted in key order, so two batches holding the same keys wait on each
// other in the same order instead of deadlocking.
import { randomUUID } from 'node:crypto'
import type { EntityManager, MikroORM } from '@mikro-orm/postgresql'
import type { components } from '../../generated/openapi.ts'
import { jsonDocuments, sql } from '../db/sql.ts'
import { candidateParams, candidatesSql, enqueueMessages, type CandidateRow } from '../outbound/fan-out.ts'
import { conflict } from '../errors.ts'
import { sealedAnswer, type IdempotencyScope } from '../idempotency/idempotency-key.ts'
import type { Owner } from '../tenancy/caller.ts'
import { answerCopies, firstCopies } from './copies.ts'
import type { BatchWriter, ItemOutcome } from './group-commit.ts'

export type EventAccepted = components['schemas']['EventAccepted']

/** One validated event to store, with what must commit alongside it. */
export interface EventItem extends Owner {
  name: string
  /** The payload as JSON text, stored and delivered as is. */
  payload: string
  /** The payload's own eventId, as text; the event is stored once per owner, name and eventId. */
  eventId: string | null
  keyId: string | null
  /** `api`, or `webhook:<source>` for an inbound delivery. */
  source: string
  /** An inbound delivery's body as received. */
  rawBody: string | null
  /** An inbound delivery's receipt: one event per route and provider delivery. */
  receipt: { routeId: string, dedupeKey: string } | null
  /** A claimed Idempotency-Key: its answer is recorded in the event's transaction. */
  idempotency: IdempotencyScope | null
  /** A kept rejection this event replays: marked replayed in the event's transaction. */
  rejectionId: string | null
}

const insertEvents = `
  with input as (
    select t.*, p.payload
      from unnest(?::uuid[], ?::text[], ?::text[], ?::uuid[], ?::uuid[], ?::text[], ?::text[], ?::text[], ?::uuid[], ?::text[])
        with ordinality as t(id, name, event_id, key_id, brand_id, env, source, raw_body, route_id, dedupe_key, position)
      join jsonb_array_elements(?::jsonb) with ordinality as p(payload, position) on p.position = t.position
  ), receipts as (
    insert into inbound_receipt (route_id, dedupe_key)
    select route_id, dedupe_key from input where route_id is not null
     order by route_id, dedupe_key collate "C"
    on conflict do nothing
    returning route_id, dedupe_key
  ), event_rows as (
    insert into event (id, name, event_id, payload, key_id, brand_id, env, source, raw_body)
    select i.id, i.name, i.event_id, i.payload, i.key_id, i.brand_id, i.env, i.source, i.raw_body
      from input i
     where i.route_id is null or exists (select 1 from receipts r where r.route_id = i.route_id and r.dedupe_key = i.dedupe_key)
     order by i.brand_id, i.env, i.name collate "C", i.event_id collate "C"
    on conflict (brand_id, env, name, event_id) where event_id is not null do nothing
    returning id, (extract(epoch from received_at) * 1000)::float8 as received_ms
  ), endpoints as (${candidatesSql}
  )
  select (select coalesce(json_agg(event_rows), '[]') from event_rows) as events,
         (select coalesce(json_agg(receipts), '[]') from receipts) as receipts,
         (select coalesce(json_agg(endpoints), '[]') from endpoints) as endpoints`

// What the skipped items were stored as: by receipt (a provider redelivery) or by eventId. A brandless
// owner (the operator's keys) has its own branch, so each one is an index lookup.
const findStored = `
  select t.position, e.id, e.event_id, e.name, (extract(epoch from e.received_at) * 1000)::float8 as received_ms
    from unnest(?::int[], ?::uuid[], ?::text[]) as t(position, route_id, dedupe_key)
    join inbound_receipt r on r.route_id = t.route_id and r.dedupe_key = t.dedupe_key
    left join event e on e.id = r.event_id
  union all
  select t.position, e.id, e.event_id, e.name, (extract(epoch from e.received_at) * 1000)::float8
    from unnest(?::int[], ?::uuid[], ?::text[], ?::text[], ?::text[]) as t(position, brand_id, env, name, event_id)
    join event e on (e.brand_id = t.brand_id or (t.brand_id is null and e.brand_id is null))
     and e.env = t.env and e.name = t.name and e.event_id = t.event_id`

const completeItems = `
  with receipts as (
    update inbound_receipt r set event_id = t.event_id
      from unnest(?::uuid[], ?::text[], ?::uuid[]) as t(route_id, dedupe_key, event_id)
     where r.route_id = t.route_id and r.dedupe_key = t.dedupe_key and r.event_id is null
    returning 1
  ), answers as (
    update idempotency_key k set state = 'done', response_status = 200, response_body = t.body, updated_at = now()
      from unnest(?::text[], ?::text[], ?::text[]) as t(key_id, idempotency_key, body)
     where k.key_id = t.key_id and k.idempotency_key = t.idempotency_key and k.state = 'in_flight'
    returning 1
  ), replays as (
    update event_rejection j set replayed_at = now(), replayed_event_id = t.event_id
      from unnest(?::uuid[], ?::uuid[]) as t(id, event_id)
     where j.id = t.id and j.replayed_at is null
    returning 1
  )
  select (select count(*) from receipts) + (select count(*) from answers) + (select count(*) from replays) as completed`

interface InsertedRow { id: string, received_ms: number }
interface StatementRow { events: InsertedRow[], receipts: { route_id: string, dedupe_key: string }[], endpoints: CandidateRow[] }
interface StoredRow { position: number, id: string | null, event_id: string | null, name: string, received_ms: number }

const receiptKey = (routeId: string, dedupeKey: string): string => `receipt ${routeId} ${dedupeKey}`

/** What makes two items the same event: the receipt's primary key, and the unique index on eventId. */
function identities (item: EventItem): string[] {
  const keys = item.receipt !== null ? [receiptKey(item.receipt.routeId, item.receipt.dedupeKey)] : []
  if (item.eventId !== null) keys.push(`event ${item.brandId ?? ''} ${item.env} ${item.name} ${item.eventId}`)
  return keys
}

/** The group commit's writer: each batch on its own EntityManager (one pooled connection at a time). */
export function eventBatchWriter (orm: MikroORM): BatchWriter<EventItem, EventAccepted> {
  return async (items) => await writeEvents(orm.em.fork(), items)
}

/** Writes `items` as one transaction; if the database refuses it, writes each item on its own. */
export async function writeEvents (em: EntityManager, items: readonly EventItem[]): Promise<ItemOutcome<EventAccepted>[]> {
  try {
    return await em.transactional(async (tx) => await writeBatch(tx, items))
  } catch (error) {
    if (items.length === 1) return [{ ok: false, error }]
    const outcomes: ItemOutcome<EventAccepted>[] = []
    for (const item of items) outcomes.push(...await writeEvents(em, [item]))
    return outcomes
  }
}

async function writeBatch (tx: EntityManager, items: readonly EventItem[]): Promise<ItemOutcome<EventAccepted>[]> {
  const copyOf = firstCopies(items, identities)
  const unique = [...new Set(copyOf)].map((i) => ({ position: i, item: items[i] as EventItem, id: randomUUID() }))
  const of = <K extends keyof EventItem>(key: K) => unique.map(({ item }) => item[key])
  const [result] = await sql<StatementRow>(tx, insertEvents, [
    unique.map((u) => u.id), of('name'), of('eventId'), of('keyId'), of('brandId'), of('env'), of('source'), of('rawBody'),
    unique.map((u) => u.item.receipt?.routeId ?? null), unique.map((u) => u.item.receipt?.dedupeKey ?? null), jsonDocuments(of('payload')),
    ...candidateParams(unique.map((u) => u.item))
  ])
  if (result === undefined) throw new Error('the event statement returned no row')

  const inserted = new Map(result.events.map((row) => [row.id, row.received_ms]))
  const claimed = new Set(result.receipts.map((row) => receiptKey(row.route_id, row.dedupe_key)))
  const byPosition = new Map<number, ItemOutcome<EventAccepted>>()
  const byReceipt: typeof unique = []
  const byEventId: typeof unique = []
  for (const u of unique) {
    const receivedMs = inserted.get(u.id)
    if (receivedMs !== undefined) {
      byPosition.set(u.position, { ok: true, value: { ok: true, id: u.id, eventId: u.item.eventId, event: u.item.name, receivedAt: new Date(receivedMs).toISOString() } })
    } else if (u.item.receipt !== null && !claimed.has(receiptKey(u.item.receipt.routeId, u.item.receipt.dedupeKey))) {
      byReceipt.push(u)
    } else {
      byEventId.push(u)
    }
  }
  if (byReceipt.length + byEventId.length > 0) {
    const stored = await sql<StoredRow>(tx, findStored, [
      byReceipt.map((u) => u.position), byReceipt.map((u) => u.item.receipt?.routeId), byReceipt.map((u) => u.item.receipt?.dedupeKey),
      byEventId.map((u) => u.position), byEventId.map((u) => u.item.brandId), byEventId.map((u) => u.item.env),
      byEventId.map((u) => u.item.name), byEventId.map((u) => u.item.eventId)
    ])
    for (const row of stored) {
      byPosition.set(row.position, row.id === null
        // Claimed by a transaction that has not stored its event (none does today: receipt and event commit together).
        ? { ok: false, error: conflict('This delivery is being stored by a concurrent request') }
        : { ok: true, value: { ok: true, id: row.id, eventId: row.event_id, event: row.name, receivedAt: new Date(row.received_ms).toISOString(), duplicate: true } })
    }
  }

  // The events and their outbound deliveries commit together; a duplicate was fanned out when it was first stored.
  await enqueueMessages(tx, unique.flatMap(({ item, id }) => {
    const receivedMs = inserted.get(id)
    return receivedMs === undefined
      ? []
      : [{ id, type: item.name, createdAt: new Date(receivedMs).toISOString(), dataJson: item.payload, env: item.env, brandId: item.brandId }]
  }), result.endpoints)

  const outcomes = answerCopies(copyOf, (first) => byPosition.get(first) ?? { ok: false, error: new Error('event batch lost an item') })
  await complete(tx, items, outcomes)
  return outcomes
}

/** Step 4: what must commit with each stored (or found) event. */
async function complete (tx: EntityManager, items: readonly EventItem[], outcomes: readonly ItemOutcome<EventAccepted>[]): Promise<void> {
  const receipts: [string[], string[], string[]] = [[], [], []]
  const answers: [string[], string[], string[]] = [[], [], []]
  const replays: [string[], string[]] = [[], []]
  items.forEach((item, i) => {
    const outcome = outcomes[i]
    if (outcome?.ok !== true) return
    const { id } = outcome.value
    if (item.receipt !== null) {
      receipts[0].push(item.receipt.routeId)
      receipts[1].push(item.receipt.dedupeKey)
      receipts[2].push(id)
    }
    if (item.idempotency !== null) {
      answers[0].push(item.idempotency.keyId)
      answers[1].push(item.idempotency.idempotencyKey)
      answers[2].push(sealedAnswer(item.idempotency, JSON.stringify(outcome.value)))
    }
    if (item.rejectionId !== null) {
      replays[0].push(item.rejectionId)
      replays[1].push(id)
    }
  })
  if (receipts[0].length + answers[0].length + replays[0].length === 0) return
  await sql(tx, completeItems, [...receipts, ...answers, ...replays])
}
