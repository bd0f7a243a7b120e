// The Loop the console's Chromium tests drive: listening on 127.0.0.1 with a fast retry schedule
// and breaker, private receivers allowed, the worker polling every 100 ms; an admin key, and
// `api` to call it over HTTP as that key (or others). Screenshots go to `artifacts`.
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import type { AddressInfo } from 'node:net'
import { authHeaders, buildWithDetails, type TestContext } from '../helper.ts'
import { FAST_BREAKER_COOLDOWN, FAST_SCHEDULE } from '../webhook-api.ts'

export const artifacts = join(import.meta.dirname, '..', 'artifacts')

export async function listeningConsole (t: TestContext) {
  await mkdir(artifacts, { recursive: true })
  const { app } = await buildWithDetails(t, { LOOP_ALLOW_PRIVATE_URLS: 'true', LOOP_DELIVERY_SCHEDULE: FAST_SCHEDULE, LOOP_DELIVERY_BREAKER_COOLDOWN_MS: FAST_BREAKER_COOLDOWN }, undefined, { deliveryWorker: { pollIntervalMs: 100 } })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
  const admin = await authHeaders(app, ['admin'])
  const adminKey = admin.authorization?.replace('Bearer ', '') ?? ''
  const api = async (method: string, path: string, body?: unknown, headers: Record<string, string> = admin): Promise<Response> =>
    await fetch(`${base}${path}`, { method, headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, body: body === undefined ? undefined : JSON.stringify(body) })
  return { app, base, admin, adminKey, api }
}
