// What the provider plugins (github.ts, sentry.ts, posthog.ts) share. Each one registers
// fastify-raw-body and its own signature hook inside its own encapsulated context; these helpers
// only read what that context captured and shape what a provider gets back.
import type { FastifyRequest } from 'fastify'
import type { RawBodyPluginOptions } from 'fastify-raw-body'
import { badRequest, notConfigured } from '../../../lib/errors.ts'
import type { RecordedSignal } from '../../../lib/signals/record-signal.ts'

/** The secret, or 500 NOT_CONFIGURED: Loop never accepts a delivery it cannot verify (docs/signals.md#receiving-a-delivery). */
export function requireSecret (secret: string | undefined, variable: string): string {
  if (secret === undefined) throw notConfigured(`${variable} is not set; this provider's webhooks are refused until it is`)
  return secret
}

/**
 * fastify-raw-body for a provider route: the bytes as sent (`encoding: false`), captured before
 * anything else reads them (`runFirst`). With `encoding: false` the plugin would also install its
 * own JSON parser; `jsonContentTypes: []` keeps Loop's app-wide one (plugins/json-body.ts), so the
 * nesting limit and prototype-poisoning checks apply here as everywhere.
 */
export const rawBodyOptions: RawBodyPluginOptions = { global: false, runFirst: true, encoding: false, jsonContentTypes: [] }

/**
 * The body exactly as the provider sent it (fastify-raw-body, `encoding: false`). A request
 * without a body has none captured, which verifies like an empty body.
 */
export function rawBodyOf (request: FastifyRequest): Buffer {
  const raw = request.rawBody
  if (Buffer.isBuffer(raw)) return raw
  return Buffer.from(raw ?? '', 'utf8')
}

/** docs/api.md#errors: a body that is JSON but not an object is 400, like one that is not JSON. */
export function assertJsonObject (body: unknown): asserts body is Record<string, unknown> {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw badRequest('Body must be a JSON object')
  }
}

export function signalReceipt (recorded: RecordedSignal) {
  const ids = { ok: true as const, signalId: recorded.signalId, issueId: recorded.issueId }
  return recorded.duplicate ? { ...ids, duplicate: true } : ids
}
