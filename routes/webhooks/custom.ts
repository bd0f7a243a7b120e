// Custom senders, on any /webhooks/ path no provider owns: X-Loop-Signature (hex HMAC of the body)
// or Standard Webhooks; a delivery is identified by webhook-id, else by the event's own eventId.
import { verifyCustomSignature } from '../../lib/signing/inbound.ts'
import { inboundSource } from './inbound-source.ts'

export default inboundSource({
  source: 'custom',
  url: '/webhooks/*',
  verify: verifyCustomSignature,
  topic: () => undefined,
  dedupeKey: (headers, _payload, values) => {
    const id = headers['webhook-id']
    if (typeof id === 'string') return id
    return typeof values.eventId === 'string' ? `event:${values.eventId}` : null
  }
})
