// Signature schemes of the inbound webhook sources (docs/events.md#sources, the source table), always over
// the raw bytes as received. Each verifier answers true only for a valid, fresh signature.
import { createHmac } from 'node:crypto'
import { Webhook } from 'standardwebhooks'
import { constantTimeEqual, decodeHex } from './constant-time.ts'

export type Headers = Record<string, string | string[] | undefined>

const header = (headers: Headers, name: string): string | undefined => {
  const value = headers[name]
  // A repeated signature header is ambiguous; refuse rather than pick one.
  return Array.isArray(value) ? undefined : value
}

const hmac = (secret: string, data: Buffer | string) => createHmac('sha256', secret).update(data).digest()

function decodeBase64 (text: string): Buffer | null {
  if (text.length === 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(text)) return null
  return Buffer.from(text, 'base64')
}

/** Shopify: `X-Shopify-Hmac-Sha256` is the base64 HMAC-SHA256 of the body under the app's client secret. */
export function verifyShopifySignature (raw: Buffer, headers: Headers, secret: string): boolean {
  const given = decodeBase64(header(headers, 'x-shopify-hmac-sha256') ?? '')
  return given !== null && constantTimeEqual(given, hmac(secret, raw))
}

/** Typeform: `Typeform-Signature: sha256=<base64 HMAC-SHA256 of the body>`. */
export function verifyTypeformSignature (raw: Buffer, headers: Headers, secret: string): boolean {
  const value = header(headers, 'typeform-signature') ?? ''
  if (!value.startsWith('sha256=')) return false
  const given = decodeBase64(value.slice('sha256='.length))
  return given !== null && constantTimeEqual(given, hmac(secret, raw))
}

export const calendlyToleranceSeconds = 180

/** Calendly: `Calendly-Webhook-Signature: t=<unix>,v1=<hex HMAC of "t.body">`, at most 3 minutes old. */
export function verifyCalendlySignature (raw: Buffer, headers: Headers, secret: string, nowMs = Date.now()): boolean {
  const parts = new Map((header(headers, 'calendly-webhook-signature') ?? '').split(',').map((part) => {
    const at = part.indexOf('=')
    return [part.slice(0, at).trim(), part.slice(at + 1).trim()] as const
  }))
  const t = parts.get('t') ?? ''
  const given = decodeHex(parts.get('v1') ?? '')
  if (!/^\d{1,12}$/.test(t) || given === null) return false
  if (Math.abs(nowMs / 1000 - Number(t)) > calendlyToleranceSeconds) return false
  return constantTimeEqual(given, hmac(secret, Buffer.concat([Buffer.from(`${t}.`), raw])))
}

/** Standard Webhooks' replay window, in seconds (the `standardwebhooks` package's tolerance). */
export const standardWebhookToleranceSeconds = 300

/** Why a Standard Webhooks delivery was refused, or `valid`. */
export type StandardWebhookCheck = 'valid' | 'missing_headers' | 'invalid_timestamp' | 'timestamp_too_old' | 'timestamp_too_new' | 'invalid_signature'

/**
 * Standard Webhooks (BigCommerce, custom senders that choose it, and receivers of Loop's own
 * deliveries through the SDK): `webhook-signature: v1,<base64>` over `id.timestamp.body`, 5-minute
 * window, the signature checked by the `standardwebhooks` package. A `whsec_` secret is the
 * scheme's own base64 key; any other secret is used as its raw bytes (BigCommerce keys with the
 * app's client secret). The window is checked here first so a stale delivery is told apart from
 * a forged one; the package checks it again.
 */
export function checkStandardWebhook (raw: Buffer, headers: Headers, secret: string, nowMs = Date.now()): StandardWebhookCheck {
  const id = header(headers, 'webhook-id')
  const timestamp = header(headers, 'webhook-timestamp')
  const signature = header(headers, 'webhook-signature')
  if (id === undefined || timestamp === undefined || signature === undefined) return 'missing_headers'
  if (!/^\d{1,12}$/.test(timestamp)) return 'invalid_timestamp'
  const age = Math.floor(nowMs / 1000) - Number(timestamp)
  if (age > standardWebhookToleranceSeconds) return 'timestamp_too_old'
  if (-age > standardWebhookToleranceSeconds) return 'timestamp_too_new'
  try {
    const webhook = secret.startsWith('whsec_') ? new Webhook(secret) : new Webhook(Buffer.from(secret, 'utf8').toString('base64'))
    webhook.verify(raw, { 'webhook-id': id, 'webhook-timestamp': timestamp, 'webhook-signature': signature })
    return 'valid'
  } catch {
    return 'invalid_signature'
  }
}

/** True only for a valid signature inside the window: what a route checks. */
export function verifyStandardWebhook (raw: Buffer, headers: Headers, secret: string): boolean {
  return checkStandardWebhook(raw, headers, secret) === 'valid'
}

/** Loop's own scheme for custom senders: `X-Loop-Signature: <hex HMAC-SHA256 of the body>`. */
export function verifyLoopSignature (raw: Buffer, headers: Headers, secret: string): boolean {
  const given = decodeHex(header(headers, 'x-loop-signature') ?? '')
  return given !== null && constantTimeEqual(given, hmac(secret, raw))
}

/** Custom senders sign with X-Loop-Signature or with Standard Webhooks, whichever they send. */
export function verifyCustomSignature (raw: Buffer, headers: Headers, secret: string): boolean {
  if (header(headers, 'webhook-signature') !== undefined) return verifyStandardWebhook(raw, headers, secret)
  return verifyLoopSignature(raw, headers, secret)
}
