// The tenants `npm run bench` loads Loop with, made through Loop's own admin and integrator API as
// an operator and its integrators would: brands with premium keys (1,000 requests/s each, so
// several keys carry the load and no per-key limit is what is measured), one webhook endpoint per
// subscribed brand, and a Shopify inbound route.
import type { BenchKey } from './requests.ts'

async function call<T> (baseUrl: string, secret: string, method: string, path: string, body: unknown): Promise<T> {
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
    body: JSON.stringify(body)
  })
  const text = await response.text()
  if (!response.ok) throw new Error(`bench setup: ${method} ${path} answered ${response.status}: ${text}`)
  return JSON.parse(text) as T
}

/** `brands` brands with `keysPerBrand` premium keys each (the brand's first key and more through POST /api/keys). */
export async function createPremiumKeys (baseUrl: string, adminKey: string, label: string, brands: number, keysPerBrand: number): Promise<BenchKey[]> {
  const keys: BenchKey[] = []
  for (let b = 0; b < brands; b++) {
    const created = await call<{ brand: { id: string }, key: { secret: string, scopes: string[] } }>(baseUrl, adminKey, 'POST', '/api/brands', {
      name: `${label} brand ${b + 1}`,
      key: { name: `${label} brand ${b + 1} key 1`, tier: 'premium' }
    })
    keys.push({ secret: created.key.secret, brandId: created.brand.id })
    for (let k = 1; k < keysPerBrand; k++) {
      const key = await call<{ secret: string }>(baseUrl, adminKey, 'POST', '/api/keys', {
        name: `${label} brand ${b + 1} key ${k + 1}`, scopes: created.key.scopes, tier: 'premium', brandId: created.brand.id
      })
      keys.push({ secret: key.secret, brandId: created.brand.id })
    }
  }
  return keys
}

/** One endpoint subscribed to lead.captured.v1 for each brand among `keys`. */
export async function subscribeEachBrand (baseUrl: string, keys: readonly BenchKey[], receiverUrl: string): Promise<number> {
  const byBrand = new Map(keys.map((key) => [key.brandId, key]))
  for (const key of byBrand.values()) {
    await call(baseUrl, key.secret, 'POST', '/api/webhooks', { url: `${receiverUrl}/loop`, events: ['lead.captured.v1'], description: 'bench receiver' })
  }
  return byBrand.size
}

/** A Shopify orders/create route at `webhookPath` for `key`'s brand, verified with `secret` and mapped by the built-in transform. */
export async function declareShopifyRoute (baseUrl: string, key: BenchKey, webhookPath: string, secret: string): Promise<void> {
  await call(baseUrl, key.secret, 'POST', '/api/events/types', { name: 'order.completed.v1', source: 'shopify', webhookPath, secret })
}
