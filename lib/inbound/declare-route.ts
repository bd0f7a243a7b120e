// Attaching an inbound webhook route to an event type (the inbound half of events.declare).
import type { EntityManager } from '@mikro-orm/postgresql'
import type { components } from '../../generated/openapi.ts'
import { conflict, type ValidationIssue } from '../errors.ts'
import type { FieldSpecs } from '../events/field-schema.ts'
import type { EventCaller } from '../events/send-event.ts'
import { builtinTransformFor, inboundSources, type InboundSource } from '../transforms/builtin.ts'
import { checkTransform } from '../transforms/jsonpath-transform.ts'
import { inboundRoutesChannel } from './route-cache.ts'
import { sql } from '../db/sql.ts'

export type InboundRouteView = components['schemas']['InboundRoute']
export type InboundDeclaration = { source?: InboundSource, webhookPath?: string, transform?: Record<string, unknown>, secret?: string }

const reservedPrefix = (path: string): InboundSource | null => {
  const first = path.split('/')[2]
  return inboundSources.find((s) => s !== 'custom' && s === first) ?? null
}

export function checkInboundDeclaration (eventType: string, fields: FieldSpecs, declaration: InboundDeclaration): ValidationIssue[] {
  const issues: ValidationIssue[] = []
  const { source, webhookPath, transform } = declaration
  if (source === undefined) issues.push({ path: 'source', message: 'Required with webhookPath, transform or secret', code: 'required' })
  if (webhookPath === undefined) issues.push({ path: 'webhookPath', message: 'Required with source, transform or secret', code: 'required' })
  if (source === undefined || webhookPath === undefined) return issues
  const owner = reservedPrefix(webhookPath)
  if (source !== 'custom' && webhookPath.split('/')[2] !== source) {
    issues.push({ path: 'webhookPath', message: `A ${source} route lives under /webhooks/${source}/`, code: 'invalid_string' })
  } else if (source === 'custom' && owner !== null) {
    issues.push({ path: 'webhookPath', message: `/webhooks/${owner}/ is reserved for ${owner} routes`, code: 'invalid_string' })
  } else if (source !== 'custom' && webhookPath.split('/').length < 4) {
    issues.push({ path: 'webhookPath', message: `Name the route: /webhooks/${source}/<name>`, code: 'invalid_string' })
  }
  if (transform !== undefined) issues.push(...checkTransform(transform, fields))
  else if (source !== 'custom' && builtinTransformFor(source, eventType) === null) {
    issues.push({ path: 'transform', message: `No built-in ${source} transform emits ${eventType}; give a transform`, code: 'required' })
  }
  return issues
}

interface RouteRecord {
  id: string
  event_type: string
  source: InboundSource
  webhook_path: string
  transform: Record<string, unknown> | null
  has_secret: boolean
  env: 'live' | 'test' | 'dev'
  created_at: Date
  updated_at: Date
  inserted: boolean
}

const columns = 'id, event_type, source, webhook_path, transform, secret is not null as has_secret, env, created_at, updated_at'

export function toRouteView (row: Omit<RouteRecord, 'inserted'>): InboundRouteView {
  return {
    id: row.id,
    eventType: row.event_type,
    source: row.source,
    webhookPath: row.webhook_path,
    transform: row.transform,
    builtinTransform: row.transform === null && row.source !== 'custom',
    hasSecret: row.has_secret,
    env: row.env,
    createdAt: new Date(row.created_at).toISOString(),
    updatedAt: new Date(row.updated_at).toISOString()
  }
}

/**
 * Creates the route, or updates transform and secret of the caller's own route of the same type at
 * that path (an omitted secret keeps the old one). Paths are one global namespace, first come first
 * served: a path another brand or env owns, or bound to another type or source, is a 409 that says
 * the path is taken and nothing of its owner. Runs in the caller's transaction (events.declare),
 * after `checkInboundDeclaration`.
 */
export async function upsertInboundRoute (tx: EntityManager, eventType: string, declaration: InboundDeclaration, caller: EventCaller): Promise<{ created: boolean, route: InboundRouteView }> {
  const rows = await sql<RouteRecord>(tx,
    `insert into inbound_route (event_type, source, webhook_path, transform, secret, key_id, brand_id, env)
     values (?, ?, ?, ?, ?, ?, ?, ?)
     on conflict (webhook_path) do update set
       transform = excluded.transform,
       secret = coalesce(excluded.secret, inbound_route.secret),
       updated_at = now()
     where inbound_route.brand_id is not distinct from excluded.brand_id and inbound_route.env = excluded.env
       and inbound_route.event_type = excluded.event_type and inbound_route.source = excluded.source
     returning ${columns}, (xmax = 0) as inserted`,
    [eventType, declaration.source, declaration.webhookPath, declaration.transform === undefined ? null : JSON.stringify(declaration.transform),
      declaration.secret ?? null, caller.keyId, caller.brandId, caller.env]
  )
  const row = rows[0]
  if (row === undefined) throw conflict(`${declaration.webhookPath} is already taken: choose another webhookPath`)
  // Every instance drops its cached copy of this path once the transaction commits.
  await sql(tx, 'select pg_notify(?, ?)', [inboundRoutesChannel, row.webhook_path])
  return { created: row.inserted, route: toRouteView(row) }
}
