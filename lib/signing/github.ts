// GitHub webhook signatures: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(raw body, secret)>`.
import { createHmac } from 'node:crypto'
import { constantTimeEqual, decodeHex } from './constant-time.ts'

const prefix = 'sha256='

/** The `X-Hub-Signature-256` value GitHub sends for `raw` signed with `secret`. */
export function signGithubPayload (raw: Buffer | string, secret: string): string {
  return prefix + createHmac('sha256', secret).update(raw).digest('hex')
}

/** True when `header` is GitHub's signature of exactly these bytes under `secret`. */
export function verifyGithubSignature (raw: Buffer, header: string | undefined, secret: string): boolean {
  if (header === undefined || !header.startsWith(prefix)) return false
  const given = decodeHex(header.slice(prefix.length))
  if (given === null) return false
  return constantTimeEqual(given, createHmac('sha256', secret).update(raw).digest())
}
