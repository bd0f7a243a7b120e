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

/**
 * The bytes `header` signs under `secret`: the raw body, or its canonical JSON.stringify form;
 * null when it signs neither. What is stored is what was signed: a canonical match means the raw
 * bytes themselves were not covered (they may differ in digits or escapes), so they are not kept.
 */
export function signedSentryBody (raw: Buffer, header: string | undefined, secret: string): Buffer | null {
  if (header === undefined) return null
  const given = decodeHex(header.trim())
  if (given === null) return null
  if (constantTimeEqual(given, createHmac('sha256', secret).update(raw).digest())) return raw
  const canonical = canonicalForm(raw)
  return canonical !== null && constantTimeEqual(given, createHmac('sha256', secret).update(canonical).digest()) ? Buffer.from(canonical, 'utf8') : null
}

/** True when `header` signs the raw bytes, or their canonical JSON.stringify form, under `secret`. */
export function verifySentrySignature (raw: Buffer, header: string | undefined, secret: string): boolean {
  return signedSentryBody(raw, header, secret) !== null
}
