// An endpoint's deliveries as a service: the log (every attempt in order), a manual retry, and a
// webhook.test message queued like any other. Each starts by finding the endpoint as the caller
// owns it (findEndpoint), so another brand's or env's deliveries are a 404.
import { randomUUID } from 'node:crypto'
import type { InferEntity } from '@mikro-orm/core'
import type { EntityManager } from '@mikro-orm/postgresql'
import type { components } from '../../generated/openapi.ts'
import { WebhookAttempt } from '../db/entities/webhook-attempt.ts'
import { WebhookDelivery } from '../db/entities/webhook-delivery.ts'
import { conflict, notFound } from '../errors.ts'
import { newestFirst, type PageRequest } from '../pagination/cursor.ts'
import { messageBody } from './message.ts'
import { findEndpoint, type WebhookCaller } from './endpoints.ts'
import { notifyDeliveryWorkers } from './fan-out.ts'
import { sql } from '../db/sql.ts'

export type WebhookDeliveryView = components['schemas']['WebhookDelivery']
export type WebhookDeliveryList = components['schemas']['WebhookDeliveryList']
export type WebhookDeliveryDetail = components['schemas']['WebhookDeliveryDetail']
type DeliveryStatus = components['schemas']['WebhookDeliveryStatus']

type DeliveryRow = {
  id: string, endpoint: string, messageId: string, eventType: string, status: DeliveryStatus, attemptCount: number,
  nextAttemptAt: Date | number, createdAt: Date, updatedAt: Date
}
type AttemptRow = {
  delivery: string, attemptNumber: number, attemptedAt: Date, statusCode?: number | null, latencyMs: number,
  error?: string | null, responseBody?: string | null
}

function toDeliveryView (row: DeliveryRow, attempts: AttemptRow[]): WebhookDeliveryView {
  return {
    id: row.id,
    endpointId: row.endpoint,
    messageId: row.messageId,
    eventType: row.eventType,
    status: row.status,
    attemptCount: row.attemptCount,
    // Unscheduled ('infinity', which the driver reads as the number Infinity) while its endpoint is disabled.
    nextAttemptAt: row.status === 'pending' && Number.isFinite(Number(row.nextAttemptAt)) ? new Date(row.nextAttemptAt).toISOString() : null,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
    attempts: attempts.map((a) => ({
      attempt: a.attemptNumber,
      attemptedAt: a.attemptedAt.toISOString(),
      statusCode: a.statusCode ?? null,
      latencyMs: a.latencyMs,
      error: a.error ?? null,
      responseBody: a.responseBody ?? null
    }))
  }
}

/** The deliveries with their attempts: one query for the page, one for all its attempts. */
async function withAttempts (em: EntityManager, rows: DeliveryRow[]): Promise<WebhookDeliveryView[]> {
  if (rows.length === 0) return []
  const attempts = await em.find(WebhookAttempt, { delivery: { $in: rows.map((r) => r.id) } }, { orderBy: [{ attemptNumber: 'asc' }], disableIdentityMap: true })
  const byDelivery = new Map<string, AttemptRow[]>()
  for (const attempt of attempts) byDelivery.set(attempt.delivery, [...(byDelivery.get(attempt.delivery) ?? []), attempt])
  return rows.map((row) => toDeliveryView(row, byDelivery.get(row.id) ?? []))
}

const pager = newestFirst<InferEntity<typeof WebhookDelivery>>('webhook-deliveries', 'createdAt')

export async function listDeliveries (em: EntityManager, endpointId: string, caller: WebhookCaller, filters: { status?: DeliveryStatus | undefined }, request: PageRequest): Promise<WebhookDeliveryList> {
  await findEndpoint(em, endpointId, caller)
  const where = { endpoint: endpointId, ...(filters.status !== undefined ? { status: filters.status } : {}) }
  // The endpoint is one of the filters: another endpoint's iterator is foreign here.
  const page = await pager.find(em, WebhookDelivery, where, request, { endpointId, ...filters }, (row) => row)
  return { ...page, data: await withAttempts(em, page.data) }
}

/** One delivery of the caller's endpoint with the exact body its attempts send (the console's payload viewer). */
export async function getDelivery (em: EntityManager, endpointId: string, deliveryId: string, caller: WebhookCaller): Promise<WebhookDeliveryDetail> {
  await findEndpoint(em, endpointId, caller)
  const row = await em.findOne(WebhookDelivery, { id: deliveryId, endpoint: endpointId }, { populate: ['body'], disableIdentityMap: true })
  if (row === null) throw notFound(`Delivery ${deliveryId} not found`)
  const [view] = await withAttempts(em, [row])
  return { ...view as WebhookDeliveryView, body: row.body.$ }
}

/**
 * Sends a delivery again now. A finished one (succeeded or failed) gets one more attempt, outside
 * the schedule; one waiting for its next retry is simply made due now. 409 while an attempt is
 * in flight (its outcome is not known yet) and while the endpoint is disabled.
 */
export async function retryDelivery (em: EntityManager, endpointId: string, deliveryId: string, caller: WebhookCaller): Promise<WebhookDeliveryView> {
  const endpoint = await findEndpoint(em, endpointId, caller)
  if (endpoint.status === 'disabled') throw conflict('This endpoint is disabled; enable it to retry its deliveries')
  const updated = await sql<{ id: string }>(em,
    `update webhook_delivery
        set manual_retry = (status <> 'pending'), status = 'pending', next_attempt_at = now(), updated_at = now()
      where id = ? and endpoint_id = ? and (locked_until is null or locked_until <= now())
      returning id`,
    [deliveryId, endpointId]
  )
  const row = await em.fork().findOne(WebhookDelivery, { id: deliveryId, endpoint: endpointId }, { disableIdentityMap: true })
  if (row === null) throw notFound(`Delivery ${deliveryId} not found`)
  if (updated.length === 0) throw conflict('An attempt of this delivery is in flight; retry once it is recorded')
  await notifyDeliveryWorkers(em)
  const [view] = await withAttempts(em, [row])
  return view as WebhookDeliveryView
}

/** Queues a webhook.test message for this endpoint alone, whatever its patterns. */
export async function sendTestMessage (em: EntityManager, endpointId: string, caller: WebhookCaller): Promise<WebhookDeliveryView> {
  const endpoint = await findEndpoint(em, endpointId, caller)
  if (endpoint.status === 'disabled') throw conflict('This endpoint is disabled; enable it to send a test')
  const messageId = randomUUID()
  const body = messageBody({
    id: messageId,
    type: 'webhook.test',
    createdAt: new Date().toISOString(),
    dataJson: JSON.stringify({ endpointId, message: 'A test message from Loop: if you can read this, your endpoint works.' })
  })
  const [row] = await sql<{ id: string, status: DeliveryStatus, attempt_count: number, next_attempt_at: Date, created_at: Date, updated_at: Date }>(em,
    `insert into webhook_delivery (endpoint_id, message_id, event_type, body) values (?, ?, 'webhook.test', ?)
     returning id, status, attempt_count, next_attempt_at, created_at, updated_at`,
    [endpointId, messageId, body]
  )
  if (row === undefined) throw new Error('test delivery was not inserted')
  await notifyDeliveryWorkers(em)
  return toDeliveryView({
    id: row.id, endpoint: endpointId, messageId, eventType: 'webhook.test', status: row.status, attemptCount: row.attempt_count,
    nextAttemptAt: new Date(row.next_attempt_at), createdAt: new Date(row.created_at), updatedAt: new Date(row.updated_at)
  }, [])
}
