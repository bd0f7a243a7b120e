// Sentry webhook signatures: `Sentry-Hook-Signature: <hex HMAC-SHA256(body, client secret)>`.
// Sentry signs the exact bytes it sends (Python's compact json.dumps: non-ASCII escaped as \uXXXX,
// floats such as 1.0 kept), so the raw bytes are checked first. Seed 001 documents the HMAC of
// JSON.stringify(JSON.parse(body)) instead, which is what Sentry's own Node examples compute;
// that canonical form is accepted as a fallback so receivers built from either recipe agree.
import { createHmac } from 'node:crypto'
import { constantTimeEqual, decodeHex } from './constant-time.ts'

/** The `Sentry-Hook-Signature` value for `body` signed with `secret`. */
export function signSentryPayload (body: Buffer | string, secret: string): string {
  return createHmac('sha256', secret).update(body).digest('hex')
}

function canonicalForm (raw: Buffer): string | null {
  try {
    return JSON.stringify(JSON.parse(raw.toString('utf8')))
  } catch {
    return null
  }
}

/** True when `header` signs the raw bytes, or their canonical JSON.stringify form, under `secret`. */
export function verifySentrySignature (raw: Buffer, header: string | undefined, secret: string): boolean {
  if (header === undefined) return false
  const given = decodeHex(header.trim())
  if (given === null) return false
  if (constantTimeEqual(given, createHmac('sha256', secret).update(raw).digest())) return true
  const canonical = canonicalForm(raw)
  return canonical !== null && constantTimeEqual(given, createHmac('sha256', secret).update(canonical).digest())
}
