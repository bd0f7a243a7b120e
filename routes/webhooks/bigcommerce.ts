// BigCommerce (orders, customers): Standard Webhooks signatures keyed with the app's client
// secret; the scope in the body; redeliveries share webhook-id (and the body's hash).
import { verifyStandardWebhook } from '../../lib/signing/inbound.ts'
import { inboundSource } from './inbound-source.ts'

export default inboundSource({
  source: 'bigcommerce',
  url: '/webhooks/bigcommerce/*',
  verify: verifyStandardWebhook,
  topic: (_headers, payload) => (typeof payload.scope === 'string' ? payload.scope : undefined),
  dedupeKey: (headers, payload) => {
    const id = headers['webhook-id']
    if (typeof id === 'string') return id
    return typeof payload.hash === 'string' ? `hash:${payload.hash}` : null
  }
})
