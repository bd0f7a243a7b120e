// Comparison of secrets and digests in time that does not depend on where they first differ, so a
// caller cannot guess a signature byte by byte from response times.
import { timingSafeEqual } from 'node:crypto'

/** True when `a` and `b` hold the same bytes. Lengths are compared first: timingSafeEqual throws on a mismatch. */
export function constantTimeEqual (a: Buffer, b: Buffer): boolean {
  if (a.length !== b.length) return false
  return timingSafeEqual(a, b)
}

const hexDigest = /^[0-9a-f]+$/i

/**
 * Decodes a hex digest, or returns null when the text is not one. Buffer.from(text, 'hex') would
 * silently stop at the first bad character, so a malformed header could decode to a prefix.
 */
export function decodeHex (text: string): Buffer | null {
  if (text.length === 0 || text.length % 2 !== 0 || !hexDigest.test(text)) return null
  return Buffer.from(text, 'hex')
}
