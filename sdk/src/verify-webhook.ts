// verifyWebhook for receivers of Loop's outbound webhooks (SPEC section 8). Loop signs every
// delivery twice over the same bytes; this checks whichever scheme the request carries, with the
// very verifiers Loop's inbound routes use for custom senders (lib/signing/inbound.ts):
// - Standard Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature`), preferred when
//   present because its timestamp also stops replays (5-minute window);
// - `X-Loop-Signature`, hex HMAC-SHA256 of the body keyed with the secret string, or
//   `X-Loop-Signature-Previous` during the 24 hours after a secret rotation.
import type { components } from '../../generated/openapi.ts'
import { verifyLoopSignature, verifyStandardWebhook, type Headers as HeaderRecord } from '../../lib/signing/inbound.ts'

/** The body Loop POSTs: `{id, type, createdAt, data}`. */
export type WebhookMessage = components['schemas']['WebhookMessage']

export type WebhookHeaders = HeaderRecord | { forEach: (callback: (value: string, name: string) => void) => void }

export class WebhookVerificationError extends Error {
  override name = 'WebhookVerificationError'
}

function lowerCased (headers: WebhookHeaders): HeaderRecord {
  const out: HeaderRecord = {}
  if (typeof headers.forEach === 'function' && !Array.isArray(headers)) {
    // Fetch API `Headers` (already lower-case names; repeated headers arrive joined by ", ").
    (headers as { forEach: (callback: (value: string, name: string) => void) => void }).forEach((value, name) => { out[name.toLowerCase()] = value })
    return out
  }
  for (const [name, value] of Object.entries(headers as HeaderRecord)) out[name.toLowerCase()] = value
  return out
}

function bytes (rawBody: string | Uint8Array): Buffer {
  if (typeof rawBody === 'string') return Buffer.from(rawBody, 'utf8')
  if (rawBody instanceof Uint8Array) return Buffer.from(rawBody.buffer, rawBody.byteOffset, rawBody.byteLength)
  throw new WebhookVerificationError('rawBody must be the request body exactly as received (string or bytes), not parsed JSON')
}

/**
 * Checks a delivery's signature over the raw body and returns the parsed message; throws
 * WebhookVerificationError when no signature matches. Pass the body exactly as received (e.g.
 * `express.raw({ type: 'application/json' })`), never re-serialized JSON.
 */
export function verifyWebhook (rawBody: string | Uint8Array, headers: WebhookHeaders, secret: string): WebhookMessage {
  if (typeof secret !== 'string' || secret === '') throw new WebhookVerificationError('secret is required')
  const raw = bytes(rawBody)
  const h = lowerCased(headers)
  let valid: boolean
  if (h['webhook-signature'] !== undefined) {
    valid = verifyStandardWebhook(raw, h, secret)
  } else if (h['x-loop-signature'] !== undefined) {
    valid = verifyLoopSignature(raw, h, secret) ||
      (h['x-loop-signature-previous'] !== undefined && verifyLoopSignature(raw, { 'x-loop-signature': h['x-loop-signature-previous'] }, secret))
  } else {
    throw new WebhookVerificationError('No signature: expected webhook-signature or X-Loop-Signature')
  }
  if (!valid) throw new WebhookVerificationError('Signature does not match this body and secret (or the timestamp is outside the 5-minute window)')
  let message: unknown
  try {
    message = JSON.parse(raw.toString('utf8'))
  } catch {
    throw new WebhookVerificationError('Signed body is not JSON')
  }
  return message as WebhookMessage
}
