// One verified provider delivery → one stored event (docs/events.md#inbound-webhooks, inbound): parse exactly,
// transform, validate, store once per delivery; an invalid event is answered 422 and kept whole.
import type { EntityManager } from '@mikro-orm/postgresql'
import type { components } from '../../generated/openapi.ts'
import { AppError, badRequest, conflict, notFound, summarizeIssues } from '../errors.ts'
import { parseJsonExact } from '../json/parse-exact.ts'
import { secretHeaders } from '../logging.ts'
import type { EventTypeRegistry } from '../events/registry.ts'
import { eventItem, type EventAccepted, type EventStore } from '../events/send-event.ts'
import type { EventItem } from '../ingest/event-batch.ts'
import { coerceToFields } from '../transforms/jsonpath-transform.ts'
import { EventRejection } from '../db/entities/event-rejection.ts'
import { InboundRoute } from '../db/entities/inbound-route.ts'
import { compileRoute, type CompiledRoute } from './route-cache.ts'
import { sql } from '../db/sql.ts'
import { ownedBy, type Caller } from '../tenancy/caller.ts'

export type InboundAccepted = components['schemas']['InboundAccepted']
export type Headers = Record<string, string | string[] | undefined>

/** What each source says it sent, and the key that identifies a delivery across redeliveries. */
export interface SourceRules {
  topic: (headers: Headers, payload: Record<string, unknown>) => string | undefined
  /** `raw` is the verified body: where a source signs only the body, its hash is what identifies a delivery. */
  dedupeKey: (headers: Headers, payload: Record<string, unknown>, values: Record<string, unknown>, raw: Buffer) => string | null
}

/** Headers worth keeping with a rejection: everything but credentials and signatures. */
export function safeHeaders (headers: Headers): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || secretHeaders.includes(name) || name.includes('signature') || name.includes('secret') || name.includes('hmac')) continue
    out[name] = Array.isArray(value) ? value.join(', ') : value
  }
  return out
}

function parseBody (raw: Buffer): Record<string, unknown> {
  let payload: unknown
  try {
    payload = parseJsonExact(raw.toString('utf8'))
  } catch {
    throw badRequest('Body is not valid JSON')
  }
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) throw badRequest('Body must be a JSON object')
  return payload as Record<string, unknown>
}

async function mapPayload (em: EntityManager, registry: EventTypeRegistry, route: CompiledRoute, payload: Record<string, unknown>) {
  // The route's brand's own type, or the built-in one: never another brand's declaration.
  const type = await registry.get(em, route.brandId, route.eventType)
  if (type === null) throw notFound(`Event type ${route.eventType} is not declared`)
  const mapped = route.transform === null ? { values: payload, issues: [] } : route.transform(payload)
  let values = mapped.values
  if (route.builtin?.finish !== undefined) values = route.builtin.finish(payload, values)
  // The route knows its provider: a `source` field the transform leaves out names it.
  if ('source' in type.fields && values.source === undefined) values = { ...values, source: route.source }
  values = coerceToFields(values, type.fields)
  // A transform stopped by its budget left fields out; their absence is not the payload's fault.
  return { values, issues: mapped.issues.length > 0 ? mapped.issues : type.validate(values) }
}

/** The event a valid delivery (or a replayed rejection) becomes, written by the group commit with its receipt. */
function inboundItem (route: CompiledRoute, dedupeKey: string | null, values: Record<string, unknown>, rawBody: string, rejectionId: string | null = null): EventItem {
  const caller = { keyId: route.keyId, brandId: route.brandId, env: route.env }
  return eventItem(route.eventType, values, caller, `webhook:${route.source}`, {
    rawBody,
    receipt: dedupeKey === null ? null : { routeId: route.id, dedupeKey },
    rejectionId
  })
}

export async function receiveInbound (store: EventStore, em: EntityManager, registry: EventTypeRegistry, route: CompiledRoute, rules: SourceRules, raw: Buffer, headers: Headers): Promise<InboundAccepted> {
  const payload = parseBody(raw)
  const topic = rules.topic(headers, payload)
  if (route.builtin !== null && topic !== undefined && topic !== route.builtin.topic) {
    // Acknowledged so the provider does not retry (or disable the subscription); nothing to store.
    return { ok: true, ignored: `${route.webhookPath} takes ${route.builtin.topic}, not ${topic}` }
  }
  const { values, issues } = await mapPayload(em, registry, route, payload)
  const dedupeKey = rules.dedupeKey(headers, payload, values, raw)
  const rawBody = raw.toString('utf8')
  if (issues.length > 0) {
    // Kept under the route's owner: only that brand and env (and the operator) can read it.
    await sql(em,
      `insert into event_rejection (route_id, event_type, source, webhook_path, dedupe_key, headers, body, issues, brand_id, env)
       select ?, ?, ?, ?, ?, ?, ?, ?, ?, ? where not exists (select 1 from event_rejection where route_id = ? and dedupe_key = ? and replayed_at is null)`,
      [route.id, route.eventType, route.source, route.webhookPath, dedupeKey, JSON.stringify(safeHeaders(headers)), rawBody, JSON.stringify(issues), route.brandId, route.env, route.id, dedupeKey]
    )
    throw new AppError(422, 'VALIDATION_ERROR', summarizeIssues(issues, 'event'), issues)
  }
  return await store(inboundItem(route, dedupeKey, values, rawBody))
}

/** Runs one of the caller's kept rejections through its route's current transform and schema; stores it when valid. */
export async function replayRejection (store: EventStore, em: EntityManager, registry: EventTypeRegistry, caller: Caller, rejectionId: string): Promise<EventAccepted> {
  const rejection = await em.findOne(EventRejection, { id: rejectionId, ...ownedBy(caller) }, { disableIdentityMap: true })
  if (rejection === null) throw notFound(`Rejection ${rejectionId} not found`)
  if (rejection.replayedAt != null) throw conflict(`Rejection ${rejectionId} was already replayed as event ${rejection.replayedEventId ?? ''}`)
  const row = await em.findOne(InboundRoute, { id: rejection.routeId }, { disableIdentityMap: true })
  if (row === null) throw notFound(`The route of rejection ${rejectionId} no longer exists`)
  const route = compileRoute(row)
  const { values, issues } = await mapPayload(em, registry, route, parseBody(Buffer.from(rejection.body, 'utf8')))
  if (issues.length > 0) {
    await sql(em, 'update event_rejection set issues = ? where id = ?', [JSON.stringify(issues), rejection.id])
    throw new AppError(422, 'VALIDATION_ERROR', summarizeIssues(issues, 'event'), issues)
  }
  return await store(inboundItem(route, rejection.dedupeKey ?? null, values, rejection.body, rejection.id))
}
