// Shopify (orders, customers, fulfillments): base64 HMAC of the body in X-Shopify-Hmac-Sha256,
// the topic in X-Shopify-Topic, redeliveries share X-Shopify-Webhook-Id.
import { verifyShopifySignature } from '../../lib/signing/inbound.ts'
import { inboundSource } from './inbound-source.ts'

const one = (value: string | string[] | undefined) => (typeof value === 'string' ? value : undefined)

export default inboundSource({
  source: 'shopify',
  url: '/webhooks/shopify/*',
  verify: verifyShopifySignature,
  topic: (headers) => one(headers['x-shopify-topic']),
  dedupeKey: (headers) => one(headers['x-shopify-webhook-id']) ?? null
})
