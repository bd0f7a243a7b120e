// Webhook endpoints as a service: register (secret shown once), read, change, delete, rotate the
// secret. An endpoint belongs to the brand and env of the key that registered it
// (docs/tenancy.md): keys of other brands or envs see nothing of it (404); the operator (a
// brandless key) sees every brand's endpoints of its env.
import { randomUUID } from 'node:crypto'
import type { InferEntity } from '@mikro-orm/core'
import type { EntityManager } from '@mikro-orm/postgresql'
import type { components } from '../../generated/openapi.ts'
import { WebhookEndpoint } from '../db/entities/webhook-endpoint.ts'
import { notFound, validationError, type ValidationIssue } from '../errors.ts'
import { newestFirst, type PageRequest } from '../pagination/cursor.ts'
import { customHeaderIssues, headerNames, patchHeaders, type CustomHeaders } from './custom-headers.ts'
import { DEFAULT_TIMEOUT_MS } from './send.ts'
import { destinationProblem, type ResolveAll } from './ssrf.ts'
import { patternReachable } from './subscriptions.ts'
import { notifyDeliveryWorkers } from './fan-out.ts'
import { generateWebhookSecret } from '../signing/outbound.ts'
import { ownedBy, ownerSql, type Caller } from '../tenancy/caller.ts'
import { sql } from '../db/sql.ts'

export type WebhookEndpointView = components['schemas']['WebhookEndpoint']
export type WebhookEndpointWithSecret = components['schemas']['WebhookEndpointWithSecret']
export type WebhookEndpointList = components['schemas']['WebhookEndpointList']
export type CreateWebhookRequest = components['schemas']['CreateWebhookRequest']
export type UpdateWebhookRequest = components['schemas']['UpdateWebhookRequest']

/** The API key acting: its brand and env own what it registers, its scopes bound what that receives. */
export type WebhookCaller = Pick<Caller, 'keyId' | 'brandId' | 'env' | 'scopes'>

export interface DestinationPolicy { allowPrivateUrls: boolean, resolve?: ResolveAll }

/** How long a rotated-out secret keeps signing beside the new one. */
export const ROTATION_OVERLAP_MS = 24 * 60 * 60 * 1000

type EndpointRow = {
  id: string, url: string, events: string[], env: 'live' | 'test', description?: string | null, brandId?: string | null,
  status: 'active' | 'failing' | 'disabled', ordering: 'unordered' | 'fifo', rateLimit?: number | null, timeoutMs: number, headers: CustomHeaders,
  pausedUntil?: Date | null, previousSecretExpiresAt?: Date | null, createdAt: Date, updatedAt: Date
}

export function toEndpointView (row: EndpointRow, now = new Date()): WebhookEndpointView {
  const overlap = row.previousSecretExpiresAt != null && row.previousSecretExpiresAt > now ? row.previousSecretExpiresAt.toISOString() : null
  return {
    id: row.id,
    url: row.url,
    events: row.events,
    env: row.env,
    description: row.description ?? null,
    brandId: row.brandId ?? null,
    status: row.status,
    ordering: row.ordering,
    rateLimit: row.rateLimit ?? null,
    timeoutMs: row.timeoutMs,
    // Values may be the receiver's credentials: like the secret, they are never returned.
    headerNames: headerNames(row.headers),
    pausedUntil: row.pausedUntil != null && row.pausedUntil > now ? row.pausedUntil.toISOString() : null,
    previousSecretExpiresAt: overlap,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString()
  }
}

/** The endpoint if the caller may see it; 404 otherwise (another brand's endpoint does not exist for it). */
export async function findEndpoint (em: EntityManager, id: string, caller: WebhookCaller) {
  const row = await em.findOne(WebhookEndpoint, { id, ...ownedEndpoints(caller) })
  if (row === null) throw notFound(`Webhook endpoint ${id} not found`)
  return row
}

/** `ownedBy` typed for this table, whose env is live or test: a dev key's filter simply matches nothing. */
const ownedEndpoints = (caller: WebhookCaller) => ownedBy(caller) as { env: 'live' | 'test', brandId?: string }

async function urlIssues (url: string | undefined, policy: DestinationPolicy): Promise<ValidationIssue[]> {
  if (url === undefined) return []
  const problem = await destinationProblem(url, { allowPrivate: policy.allowPrivateUrls, ...(policy.resolve !== undefined ? { resolve: policy.resolve } : {}) })
  return problem === null ? [] : [{ path: 'url', message: problem, code: 'invalid_string' }]
}

function patternIssues (events: readonly string[] | undefined, scopes: readonly string[]): ValidationIssue[] {
  return (events ?? []).flatMap((pattern, index) => patternReachable(pattern, scopes)
    ? []
    : [{ path: `events.${index}`, message: `This key's scopes never allow receiving ${pattern}`, code: 'custom' as const }])
}

function envIssues (env: CreateWebhookRequest['env'], caller: WebhookCaller): ValidationIssue[] {
  if (env === 'dev') return [{ path: 'env', message: 'dev events are never delivered: register a live or test endpoint', code: 'invalid_enum_value' }]
  // Env is a wall: an endpoint lives in its key's env, so a sandbox key never subscribes to real traffic.
  if (env !== caller.env) return [{ path: 'env', message: `A ${caller.env} key registers ${caller.env} endpoints only`, code: 'invalid_enum_value' }]
  return []
}

export async function createEndpoint (em: EntityManager, input: CreateWebhookRequest, caller: WebhookCaller, policy: DestinationPolicy): Promise<WebhookEndpointWithSecret> {
  const env = input.env ?? caller.env
  const issues = [...await urlIssues(input.url, policy), ...patternIssues(input.events, caller.scopes), ...envIssues(env, caller), ...customHeaderIssues(input.headers ?? {})]
  if (issues.length > 0) throw validationError(issues)
  const now = new Date()
  const row = {
    id: randomUUID(),
    url: input.url,
    events: input.events,
    env: env as 'live' | 'test',
    description: input.description ?? null,
    brandId: caller.brandId,
    status: 'active' as const,
    ordering: input.ordering ?? 'unordered',
    rateLimit: input.rateLimit ?? null,
    timeoutMs: input.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    headers: input.headers ?? {},
    previousSecretExpiresAt: null,
    createdAt: now,
    updatedAt: now
  }
  const secret = generateWebhookSecret()
  // Bound parameters (lib/db/sql.ts), so the secret and header values never appear in SQL text or a log line.
  await sql(em,
    `insert into webhook_endpoint (id, url, events, env, description, brand_id, key_id, scopes, secret, status, ordering, rate_limit, timeout_ms, headers, created_at, updated_at)
     values (?, ?, ?::text[], ?, ?, ?, ?, ?::text[], ?, 'active', ?, ?, ?, ?::jsonb, ?, ?)`,
    [row.id, row.url, row.events, row.env, row.description, row.brandId, caller.keyId, [...caller.scopes], secret, row.ordering, row.rateLimit, row.timeoutMs, JSON.stringify(row.headers), now, now]
  )
  return { ...toEndpointView(row), secret }
}

const pager = newestFirst<InferEntity<typeof WebhookEndpoint>>('webhooks', 'createdAt')

export async function listEndpoints (em: EntityManager, caller: WebhookCaller, request: PageRequest): Promise<WebhookEndpointList> {
  return await pager.find(em, WebhookEndpoint, ownedEndpoints(caller), request, {}, toEndpointView)
}

export async function getEndpoint (em: EntityManager, id: string, caller: WebhookCaller): Promise<WebhookEndpointView> {
  return toEndpointView(await findEndpoint(em, id, caller))
}

export async function updateEndpoint (em: EntityManager, id: string, patch: UpdateWebhookRequest, caller: WebhookCaller, policy: DestinationPolicy): Promise<WebhookEndpointView> {
  return await em.transactional(async (tx) => {
    const row = await findEndpoint(tx, id, caller)
    // Patterns are judged by the scopes the endpoint was registered with: those are what it receives under.
    const headers = patch.headers === undefined ? null : patchHeaders(row.headers, patch.headers)
    const issues = [...await urlIssues(patch.url, policy), ...patternIssues(patch.events, row.scopes), ...headers?.issues ?? []]
    if (issues.length > 0) throw validationError(issues)
    const wasDisabled = row.status === 'disabled'
    if (patch.url !== undefined) row.url = patch.url
    if (patch.events !== undefined) row.events = patch.events
    if (patch.description !== undefined) row.description = patch.description
    if (patch.ordering !== undefined) row.ordering = patch.ordering
    if (patch.rateLimit !== undefined) row.rateLimit = patch.rateLimit
    if (patch.timeoutMs !== undefined) row.timeoutMs = patch.timeoutMs
    if (headers !== null) row.headers = headers.headers
    if (patch.status !== undefined) {
      row.status = patch.status
      row.failingSince = null
    }
    row.updatedAt = new Date()
    await tx.flush()
    if (wasDisabled !== (row.status === 'disabled')) await parkPendingDeliveries(tx, id, row.status === 'disabled')
    if (wasDisabled && row.status !== 'disabled') await notifyDeliveryWorkers(tx)
    return toEndpointView(row)
  })
}

/**
 * A disabled endpoint's pending deliveries wait unscheduled (next attempt at 'infinity'), so the
 * workers' claim query never has to walk past them; enabling it makes them due at once.
 */
export async function parkPendingDeliveries (em: EntityManager, endpointId: string, park: boolean): Promise<void> {
  await sql(em,
    park
      ? "update webhook_delivery set next_attempt_at = 'infinity', updated_at = now() where endpoint_id = ? and status = 'pending'"
      : "update webhook_delivery set next_attempt_at = now(), updated_at = now() where endpoint_id = ? and status = 'pending' and next_attempt_at = 'infinity'",
    [endpointId]
  )
}

/** Deletes the endpoint with its deliveries and their attempts; a send in flight records nothing. */
export async function deleteEndpoint (em: EntityManager, id: string, caller: WebhookCaller): Promise<void> {
  const deleted = await em.nativeDelete(WebhookEndpoint, { id, ...ownedEndpoints(caller) })
  if (deleted === 0) throw notFound(`Webhook endpoint ${id} not found`)
}

/**
 * A new secret, returned this once. One UPDATE moves the current secret to `previous_secret` for
 * 24 hours, so two concurrent rotations cannot both keep the same old secret; rotating within the
 * window drops the older secret at once.
 */
export async function rotateSecret (em: EntityManager, id: string, caller: WebhookCaller): Promise<WebhookEndpointWithSecret> {
  const secret = generateWebhookSecret()
  // The owner is in the UPDATE itself: another brand's or env's endpoint is not found.
  const owner = ownerSql(caller)
  const updated = await sql<{ id: string }>(em,
    `update webhook_endpoint
        set previous_secret = secret, previous_secret_expires_at = now() + ? * interval '1 millisecond', secret = ?, updated_at = now()
      where id = ? and ${owner.sql} returning id`,
    [ROTATION_OVERLAP_MS, secret, id, ...owner.params]
  )
  if (updated.length === 0) throw notFound(`Webhook endpoint ${id} not found`)
  const row = await em.fork().findOneOrFail(WebhookEndpoint, { id })
  return { ...toEndpointView(row), secret }
}
