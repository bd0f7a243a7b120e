// Custom senders, on any /webhooks/ path no provider owns: X-Loop-Signature (hex HMAC of the body)
// or Standard Webhooks. A delivery is identified by what its signature covers: Standard Webhooks
// signs its webhook-id, X-Loop-Signature only the body, so there the body's hash identifies it (a
// replay of a captured body under a fresh, unsigned webhook-id is the same delivery).
import { createHash } from 'node:crypto'
import { verifyCustomSignature } from '../../lib/signing/inbound.ts'
import { inboundSource } from './inbound-source.ts'

export default inboundSource({
  source: 'custom',
  url: '/webhooks/*',
  verify: verifyCustomSignature,
  topic: () => undefined,
  dedupeKey: (headers, _payload, _values, raw) => {
    const id = headers['webhook-id']
    if (typeof headers['webhook-signature'] === 'string' && typeof id === 'string') return id
    return `body:${createHash('sha256').update(raw).digest('hex')}`
  }
})
