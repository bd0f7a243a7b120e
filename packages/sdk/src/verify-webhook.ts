// Signature checks for receivers of Loop's outbound webhooks, on Web Crypto alone
// (`globalThis.crypto.subtle`: Node ≥ 20, Deno, Bun, Workers, browsers), so both are async. Loop
// signs every delivery twice (lib/signing/outbound.ts):
// - verifyWebhook requires Standard Webhooks (`webhook-id`, `webhook-timestamp`,
//   `webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">`): its signed timestamp is
//   what stops a captured delivery being replayed later (5-minute window either way);
// - verifyLoopSignatureWithoutReplayProtection checks `X-Loop-Signature` alone (hex HMAC-SHA256 of
//   the body, or `X-Loop-Signature-Previous` after a rotation), for receivers that cannot read the
//   other headers. Nothing in it is timed, so a delivery recorded once verifies for ever.
// Signatures are compared by `subtle.verify`, which takes the same time wherever they differ.
import type { components } from '../../../generated/openapi.ts'

/** The body Loop POSTs: `{id, type, createdAt, data}`. */
export type WebhookMessage = components['schemas']['WebhookMessage']

type HeaderRecord = Record<string, string | string[] | undefined>
/** Node's `req.headers`, a plain record, or Fetch API `Headers`. */
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

/** Standard Webhooks' replay window, in seconds, either way. */
export const webhookToleranceSeconds = 300

const encoder = new TextEncoder()

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

/** A repeated signature header is ambiguous: refused rather than one picked. */
function header (headers: HeaderRecord, name: string): string | undefined {
  const value = headers[name]
  return Array.isArray(value) ? undefined : value
}

function bytes (rawBody: string | Uint8Array | ArrayBuffer): Uint8Array {
  if (typeof rawBody === 'string') return encoder.encode(rawBody)
  if (rawBody instanceof Uint8Array) return rawBody
  if (rawBody instanceof ArrayBuffer) return new Uint8Array(rawBody)
  throw new WebhookVerificationError('invalid_body', 'rawBody must be the request body exactly as received (string or bytes), not parsed JSON')
}

function requireSecret (secret: string): void {
  if (typeof secret !== 'string' || secret === '') throw new WebhookVerificationError('missing_secret', 'secret is required')
}

function parseMessage (raw: Uint8Array): WebhookMessage {
  try {
    return JSON.parse(new TextDecoder().decode(raw)) as WebhookMessage
  } catch {
    throw new WebhookVerificationError('invalid_body', 'Signed body is not JSON')
  }
}

function decodeBase64 (text: string): Uint8Array | null {
  if (text.length === 0 || text.length % 4 !== 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(text)) return null
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0))
}

function decodeHex (text: string): Uint8Array | null {
  if (text.length === 0 || text.length % 2 !== 0 || !/^[0-9a-f]+$/i.test(text)) return null
  const out = new Uint8Array(text.length / 2)
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(text.slice(i * 2, i * 2 + 2), 16)
  return out
}

// Named through the function, not `CryptoKey`: Node's typings and the DOM's declare it differently.
type HmacKey = Awaited<ReturnType<typeof globalThis.crypto.subtle.importKey>>

function hmacKey (secret: Uint8Array): Promise<HmacKey> {
  return globalThis.crypto.subtle.importKey('raw', secret as Uint8Array<ArrayBuffer>, { name: 'HMAC', hash: 'SHA-256' }, false, ['verify'])
}

function verifyHmac (key: HmacKey, signature: Uint8Array, data: Uint8Array): Promise<boolean> {
  return globalThis.crypto.subtle.verify('HMAC', key, signature as Uint8Array<ArrayBuffer>, data as Uint8Array<ArrayBuffer>)
}

/** A `whsec_` secret is Standard Webhooks' base64 key; any other is used as its UTF-8 bytes (as Loop's inbound check does). */
function standardKeyBytes (secret: string): Uint8Array | null {
  return secret.startsWith('whsec_') ? decodeBase64(secret.slice('whsec_'.length)) : encoder.encode(secret)
}

function concat (a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length)
  out.set(a, 0)
  out.set(b, a.length)
  return out
}

/**
 * Checks a delivery's Standard Webhooks signature and timestamp over the raw body and resolves to
 * the parsed message; rejects with a WebhookVerificationError (with its `code`) otherwise. Pass the
 * body exactly as received (`await request.text()`, `express.raw({ type: 'application/json' })`),
 * never re-serialized JSON.
 */
export async function verifyWebhook (rawBody: string | Uint8Array | ArrayBuffer, headers: WebhookHeaders, secret: string): Promise<WebhookMessage> {
  requireSecret(secret)
  const raw = bytes(rawBody)
  const h = lowerCased(headers)
  const id = header(h, 'webhook-id')
  const timestamp = header(h, 'webhook-timestamp')
  const signatures = header(h, 'webhook-signature')
  if (id === undefined || timestamp === undefined || signatures === undefined) {
    throw new WebhookVerificationError('missing_signature', 'Expected the Standard Webhooks headers webhook-id, webhook-timestamp, webhook-signature; X-Loop-Signature alone carries no timestamp, so it cannot tell a replay from a fresh delivery (verifyLoopSignatureWithoutReplayProtection accepts it knowingly)')
  }
  if (!/^\d{1,12}$/.test(timestamp)) throw new WebhookVerificationError('invalid_signature', 'webhook-timestamp is not a Unix time in seconds')
  const age = Math.floor(Date.now() / 1000) - Number(timestamp)
  if (age > webhookToleranceSeconds) throw new WebhookVerificationError('timestamp_too_old', `webhook-timestamp is older than ${webhookToleranceSeconds / 60} minutes: a replayed delivery, or this clock is behind`)
  if (-age > webhookToleranceSeconds) throw new WebhookVerificationError('timestamp_too_new', `webhook-timestamp is more than ${webhookToleranceSeconds / 60} minutes ahead: this clock is behind Loop's`)
  const secretBytes = standardKeyBytes(secret)
  if (secretBytes !== null && secretBytes.length > 0) {
    const key = await hmacKey(secretBytes)
    const signed = concat(encoder.encode(`${id}.${timestamp}.`), raw)
    // Several signatures during a secret rotation, space-separated; any valid v1 one will do.
    for (const versioned of signatures.split(' ')) {
      const [version, signature] = versioned.split(',')
      const given = version === 'v1' && signature !== undefined ? decodeBase64(signature) : null
      if (given !== null && await verifyHmac(key, given, signed)) return parseMessage(raw)
    }
  }
  throw new WebhookVerificationError('invalid_signature', 'webhook-signature does not match this body and secret')
}

/**
 * Checks `X-Loop-Signature` (or `X-Loop-Signature-Previous`) alone and resolves to the parsed
 * message. It has no replay protection: anyone who captured one delivery can send it again at any
 * time and it still verifies, so deduplicate on the message `id` yourself. Prefer verifyWebhook.
 */
export async function verifyLoopSignatureWithoutReplayProtection (rawBody: string | Uint8Array | ArrayBuffer, headers: WebhookHeaders, secret: string): Promise<WebhookMessage> {
  requireSecret(secret)
  const raw = bytes(rawBody)
  const h = lowerCased(headers)
  if (h['x-loop-signature'] === undefined) throw new WebhookVerificationError('missing_signature', 'Expected an X-Loop-Signature header')
  // Keyed with the secret string's UTF-8 bytes, `whsec_` included.
  const key = await hmacKey(encoder.encode(secret))
  for (const name of ['x-loop-signature', 'x-loop-signature-previous']) {
    const given = decodeHex(header(h, name) ?? '')
    if (given !== null && await verifyHmac(key, given, raw)) return parseMessage(raw)
  }
  throw new WebhookVerificationError('invalid_signature', 'X-Loop-Signature does not match this body and secret')
}
