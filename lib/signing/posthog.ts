// PostHog webhooks carry no signature: the destination sends the shared secret itself in
// `X-PostHog-Secret`, which is compared in constant time with POSTHOG_WEBHOOK_SECRET.
import { createHash } from 'node:crypto'
import { constantTimeEqual } from './constant-time.ts'

/** True when `header` is the shared secret. */
export function verifyPosthogSecret (header: string | undefined, secret: string): boolean {
  if (header === undefined) return false
  // Hashing both sides first gives equal lengths, so the comparison leaks not even the secret's length.
  const digest = (text: string) => createHash('sha256').update(text).digest()
  return constantTimeEqual(digest(header), digest(secret))
}
