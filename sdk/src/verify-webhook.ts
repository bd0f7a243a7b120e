// Signature checks for receivers of Loop's outbound webhooks (SPEC section 8), with the very
// verifiers Loop's inbound routes use (lib/signing/inbound.ts). Loop signs every delivery twice:
// - verifyWebhook requires Standard Webhooks (`webhook-id`, `webhook-timestamp`,
//   `webhook-signature`): its signed timestamp is what stops a captured delivery being replayed
//   later (5-minute window);
// - verifyLoopSignatureWithoutReplayProtection checks `X-Loop-Signature` alone (hex HMAC-SHA256 of
//   the body, or `X-Loop-Signature-Previous` after a rotation), for receivers that cannot read the
//   other headers. Nothing in it is timed, so a delivery recorded once verifies for ever.
import type { components } from '../../generated/openapi.ts'
import { checkStandardWebhook, standardWebhookToleranceSeconds, verifyLoopSignature, type Headers as HeaderRecord, type StandardWebhookCheck } from '../../lib/signing/inbound.ts'

/** The body Loop POSTs: `{id, type, createdAt, data}`. */
export type WebhookMessage = components['schemas']['WebhookMessage']

export type WebhookHeaders = HeaderRecord | { forEach: (callback: (value: string, name: string) => void) => void }

/** Why a delivery was refused: answer 401 to the signature codes, and look at the clocks for the timestamp ones. */
export type WebhookVerificationErrorCode = 'missing_secret' | 'invalid_body' | 'missing_signature' | 'invalid_signature' | 'timestamp_too_old' | 'timestamp_too_new'

export class WebhookVerificationError extends Error {
  override name = 'WebhookVerificationError'
  readonly code: WebhookVerificationErrorCode

  constructor (code: WebhookVerificationErrorCode, message: string) {
    super(message)
    this.code = code
  }
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
  throw new WebhookVerificationError('invalid_body', 'rawBody must be the request body exactly as received (string or bytes), not parsed JSON')
}

function requireSecret (secret: string): void {
  if (typeof secret !== 'string' || secret === '') throw new WebhookVerificationError('missing_secret', 'secret is required')
}

function parseMessage (raw: Buffer): WebhookMessage {
  try {
    return JSON.parse(raw.toString('utf8')) as WebhookMessage
  } catch {
    throw new WebhookVerificationError('invalid_body', 'Signed body is not JSON')
  }
}

const refusals: Record<Exclude<StandardWebhookCheck, 'valid'>, [WebhookVerificationErrorCode, string]> = {
  missing_headers: ['missing_signature', 'Expected the Standard Webhooks headers webhook-id, webhook-timestamp, webhook-signature; X-Loop-Signature alone carries no timestamp, so it cannot tell a replay from a fresh delivery (verifyLoopSignatureWithoutReplayProtection accepts it knowingly)'],
  invalid_timestamp: ['invalid_signature', 'webhook-timestamp is not a Unix time in seconds'],
  timestamp_too_old: ['timestamp_too_old', `webhook-timestamp is older than ${standardWebhookToleranceSeconds / 60} minutes: a replayed delivery, or this clock is behind`],
  timestamp_too_new: ['timestamp_too_new', `webhook-timestamp is more than ${standardWebhookToleranceSeconds / 60} minutes ahead: this clock is behind Loop's`],
  invalid_signature: ['invalid_signature', 'webhook-signature does not match this body and secret']
}

/**
 * Checks a delivery's Standard Webhooks signature and timestamp over the raw body and returns the
 * parsed message; throws WebhookVerificationError (with its `code`) otherwise. Pass the body
 * exactly as received (e.g. `express.raw({ type: 'application/json' })`), never re-serialized JSON.
 */
export function verifyWebhook (rawBody: string | Uint8Array, headers: WebhookHeaders, secret: string): WebhookMessage {
  requireSecret(secret)
  const raw = bytes(rawBody)
  const check = checkStandardWebhook(raw, lowerCased(headers), secret)
  if (check !== 'valid') throw new WebhookVerificationError(...refusals[check])
  return parseMessage(raw)
}

/**
 * Checks `X-Loop-Signature` (or `X-Loop-Signature-Previous`) alone and returns the parsed message.
 * It has no replay protection: anyone who captured one delivery can send it again at any time and
 * it still verifies, so deduplicate on the message `id` yourself. Prefer verifyWebhook.
 */
export function verifyLoopSignatureWithoutReplayProtection (rawBody: string | Uint8Array, headers: WebhookHeaders, secret: string): WebhookMessage {
  requireSecret(secret)
  const raw = bytes(rawBody)
  const h = lowerCased(headers)
  if (h['x-loop-signature'] === undefined) throw new WebhookVerificationError('missing_signature', 'Expected an X-Loop-Signature header')
  const valid = verifyLoopSignature(raw, h, secret) ||
    (h['x-loop-signature-previous'] !== undefined && verifyLoopSignature(raw, { 'x-loop-signature': h['x-loop-signature-previous'] }, secret))
  if (!valid) throw new WebhookVerificationError('invalid_signature', 'X-Loop-Signature does not match this body and secret')
  return parseMessage(raw)
}
