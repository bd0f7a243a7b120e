// Signatures on outbound webhooks (docs/webhooks.md#signatures). Two schemes over the same exact body bytes:
// `X-Loop-Signature`, the one the Express and Flask receivers of docs/webhooks.md#receivers check, and Standard Webhooks
// (`webhook-id`, `webhook-timestamp`, `webhook-signature`) for every other library.
import { createHmac, randomBytes } from 'node:crypto'

export const SECRET_PREFIX = 'whsec_'
/** 32 random bytes: the upper end of the 24–32 bytes Standard Webhooks libraries expect. */
const SECRET_BYTES = 32

/** `whsec_` + base64 of 32 random bytes. */
export function generateWebhookSecret (random: (size: number) => Buffer = randomBytes): string {
  return SECRET_PREFIX + random(SECRET_BYTES).toString('base64')
}

/**
 * Hex HMAC-SHA256 of the body keyed with the secret *string* (its UTF-8 bytes, `whsec_` included):
 * exactly what the seed's receivers compute with `createHmac('sha256', process.env.WEBHOOK_SECRET)`
 * and `hmac.new(WEBHOOK_SECRET.encode(), …)`, so they verify Loop unchanged.
 */
export function loopSignature (body: string, secret: string): string {
  return createHmac('sha256', secret).update(body, 'utf8').digest('hex')
}

/** Standard Webhooks keys with the base64-decoded bytes after `whsec_`, not with the string. */
function standardKey (secret: string): Buffer {
  return Buffer.from(secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret, 'base64')
}

/** `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, as the Standard Webhooks spec defines it. */
export function standardSignature (messageId: string, timestamp: number, body: string, secret: string): string {
  const mac = createHmac('sha256', standardKey(secret)).update(`${messageId}.${timestamp}.${body}`, 'utf8').digest('base64')
  return `v1,${mac}`
}

export interface OutboundSigningInput {
  /** The stored body text, sent and signed as is. */
  body: string
  /** The message id: `webhook-id`, the same on every attempt and (for one message) every endpoint. */
  messageId: string
  /** This message to this endpoint: `X-Loop-Delivery`. */
  deliveryId: string
  eventType: string
  /** Unix seconds of this attempt (`webhook-timestamp`; receivers reject stale ones). */
  timestamp: number
  secret: string
  /** The rotated-out secret, while it still signs (24 hours after a rotation). */
  previousSecret?: string | null
}

/**
 * Every header of one attempt. During a rotation both secrets sign: `webhook-signature` lists
 * both (new first; receivers accept any listed signature), `X-Loop-Signature` uses the new secret
 * and `X-Loop-Signature-Previous` the old one, so a receiver still on the old secret can switch
 * at its own pace within the window.
 */
export function outboundHeaders (input: OutboundSigningInput): Record<string, string> {
  const secrets = [input.secret, ...(input.previousSecret != null ? [input.previousSecret] : [])]
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'user-agent': 'Loop-Webhooks/1',
    'x-loop-event': input.eventType,
    'x-loop-delivery': input.deliveryId,
    'x-loop-signature': loopSignature(input.body, input.secret),
    'webhook-id': input.messageId,
    'webhook-timestamp': String(input.timestamp),
    'webhook-signature': secrets.map((secret) => standardSignature(input.messageId, input.timestamp, input.body, secret)).join(' ')
  }
  if (input.previousSecret != null) headers['x-loop-signature-previous'] = loopSignature(input.body, input.previousSecret)
  return headers
}
