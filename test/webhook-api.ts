// Loop's webhook API as the end-to-end tests use it: start an instance, register endpoints, send
// events, read the delivery log. Every call goes through HTTP with a real API key.
import { randomUUID } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { authHeaders, buildWithDetails, type BuildTestOptions, type TestContext } from './helper.ts'
import { eventually, type ReceivedRequest } from './receiver.ts'

export const FAST_SCHEDULE = '100ms,100ms,100ms,100ms,100ms'
/** A circuit-breaker pause on the fast schedule's scale, so a failing endpoint still exhausts its retries quickly. */
export const FAST_BREAKER_COOLDOWN = '200'
export const allScopes = ['events:write', 'events:read', 'webhooks:manage']

export interface Loop { app: FastifyInstance, key: Record<string, string>, databaseUrl: string }

/** A Loop that delivers: its delivery worker runs unless `options.deliveryWorker` is false. */
export async function startLoop (t: TestContext, env: Record<string, string> = {}, options: BuildTestOptions = {}, key?: Record<string, string>): Promise<Loop> {
  const { app, databaseUrl } = await buildWithDetails(t, { LOOP_ALLOW_PRIVATE_URLS: 'true', LOOP_DELIVERY_SCHEDULE: FAST_SCHEDULE, LOOP_DELIVERY_BREAKER_COOLDOWN_MS: FAST_BREAKER_COOLDOWN, ...env }, undefined, { deliveryWorker: true, ...options })
  return { app, databaseUrl, key: key ?? await authHeaders(app, allScopes, { tier: 'premium' }) }
}

export interface Endpoint { id: string, secret: string, status: string }

/** Registers `url`; `settings` adds the other fields of the request (timeoutMs, headers…). */
export async function register (loop: Loop, url: string, events: string[] = ['lead.captured.v1'], settings: Record<string, unknown> = {}): Promise<Endpoint> {
  const res = await loop.app.inject({ method: 'POST', url: '/api/webhooks', headers: loop.key, payload: { url, events, ...settings } })
  if (res.statusCode !== 201) throw new Error(`register: ${res.statusCode} ${res.body}`)
  return res.json()
}

export const lead = (extra: Record<string, unknown> = {}) => ({
  eventId: randomUUID(),
  occurredAt: '2026-05-19T12:00:00Z',
  brandId: '7d0c5a4e-2f6b-4c1e-9a63-5f0f8f1f2b11',
  email: 'user@example.com',
  source: 'inbound_lead',
  attribution: { utm_source: 'newsletter – été' },
  ...extra
})

/** Sends a lead; `id` is Loop's id of the stored event (the messages' id), `eventId` the payload's. */
export async function sendLead (loop: Loop, payload = lead()): Promise<{ id: string, eventId: string | null, receivedAt: string, payload: Record<string, unknown> }> {
  const res = await loop.app.inject({ method: 'POST', url: '/api/events', headers: loop.key, payload: { event: 'lead.captured.v1', payload } })
  if (res.statusCode !== 200) throw new Error(`send: ${res.statusCode} ${res.body}`)
  return { ...res.json(), payload }
}

export interface Attempt { attempt: number, attemptedAt: string, statusCode: number | null, latencyMs: number, error: string | null, responseBody: string | null }
export interface Delivery { id: string, messageId: string, eventType: string, status: string, attemptCount: number, nextAttemptAt: string | null, attempts: Attempt[] }

export async function deliveryLog (loop: Loop, endpointId: string): Promise<Delivery[]> {
  const res = await loop.app.inject({ method: 'GET', url: `/api/webhooks/${endpointId}/deliveries`, headers: loop.key })
  if (res.statusCode !== 200) throw new Error(`log: ${res.statusCode} ${res.body}`)
  return res.json().data
}

export async function endpointStatus (loop: Loop, endpointId: string): Promise<string> {
  return (await loop.app.inject({ method: 'GET', url: `/api/webhooks/${endpointId}`, headers: loop.key })).json().status
}

/** The log once no delivery is pending any more. */
export const settledLog = (loop: Loop, endpointId: string, count = 1) => eventually(async () => {
  const log = await deliveryLog(loop, endpointId)
  return log.length >= count && log.every((d) => d.status !== 'pending') ? log : undefined
}, 20_000, 'deliveries to settle')

export const headerOf = (request: ReceivedRequest | undefined, name: string) => request?.headers[name] as string | undefined

/**
 * Once every delivery due now has been attempted and recorded, by every instance given: a wrongful
 * extra attempt would have been made by then (DeliveryWorker.idle).
 */
export async function workerIdle (...loops: Loop[]): Promise<void> {
  await Promise.all(loops.map(async (loop) => {
    if (loop.app.deliveryWorker === null) throw new Error('this Loop runs no delivery worker')
    await loop.app.deliveryWorker.idle()
  }))
}

