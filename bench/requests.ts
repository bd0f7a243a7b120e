// The requests `npm run bench` sends, each made fresh by autocannon's setupRequest so every one is
// stored (no duplicate answers): signed GitHub pushes, lead.captured.v1 events spread over several
// keys, signed Shopify orders/create deliveries, and event-list reads.
import type { Request } from 'autocannon'
import { createHmac, randomBytes, randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { signGithubPayload } from '../lib/signing/github.ts'

/** A GitHub push of six commits, about 5 KB; `{{after}}` and `{{n}}` make each one unique. */
function pushTemplate (): string {
  const commit = (i: number) => ({
    id: `{{n}}${i.toString(16).padStart(2, '0')}${'c0ffee'.repeat(5)}`,
    tree_id: 'f9d2a07e9488b91af2641b26b9407fe22a451433',
    distinct: true,
    message: `Refactor the checkout flow, step ${i}\n\nSplit the payment form into smaller components and cover them with tests.`,
    timestamp: '2026-11-25T10:00:00+00:00',
    url: `https://github.com/octo/app/commit/{{n}}${i}`,
    author: { name: 'Ada Lovelace', email: 'ada@example.com', username: 'ada' },
    committer: { name: 'GitHub', email: 'noreply@github.com', username: 'web-flow' },
    added: [`src/checkout/step-${i}.ts`],
    removed: [],
    modified: ['src/checkout/index.ts', 'src/checkout/payment-form.ts', 'test/checkout.test.ts']
  })
  const commits = Array.from({ length: 6 }, (_, i) => commit(i))
  return JSON.stringify({
    ref: 'refs/heads/main',
    before: '6113728f27ae82c7b1a177c8d03f9e96e0adf246',
    after: '{{after}}',
    created: false,
    deleted: false,
    forced: false,
    compare: 'https://github.com/octo/app/compare/6113728f27ae...{{after}}',
    commits,
    head_commit: commits[5],
    repository: { id: 1296269, name: 'app', full_name: 'octo/app', private: false, default_branch: 'main', html_url: 'https://github.com/octo/app' },
    pusher: { name: 'ada', email: 'ada@example.com' },
    sender: { login: 'ada', id: 1, type: 'User' }
  })
}

// Split once at the {{after}} and {{n}} slots, so making each body is one join rather than two scans of 5 KB:
// the load generator shares the machine's CPU with the servers it measures.
const pushParts = pushTemplate().split(/(\{\{after\}\}|\{\{n\}\})/)

/** A fresh, signed GitHub push to POST /api/signals/github: new delivery id, commit ids and signature. */
export function githubPush (secret: string): Request {
  const after = randomBytes(20).toString('hex')
  const short = after.slice(0, 8)
  const body = pushParts.map((part) => part === '{{after}}' ? after : part === '{{n}}' ? short : part).join('')
  return {
    method: 'POST',
    path: '/api/signals/github',
    headers: {
      'content-type': 'application/json',
      'x-github-event': 'push',
      'x-github-delivery': randomUUID(),
      'x-hub-signature-256': signGithubPayload(body, secret)
    },
    body
  }
}

/** A key the bench created, with the brand it writes as. */
export interface BenchKey { secret: string, brandId: string }

/** Takes the keys in turn, so each carries 1/n of the load and its per-key rate limit is never what is measured. */
export function roundRobin (keys: readonly BenchKey[]): () => BenchKey {
  if (keys.length === 0) throw new Error('roundRobin needs at least one key')
  let next = 0
  return () => keys[next++ % keys.length] as BenchKey
}

/** A valid lead.captured.v1 (the seed's example shape) with a fresh eventId, to `path` as `key`. */
export function leadCaptured (path: string, key: BenchKey): Request {
  return {
    method: 'POST',
    path,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key.secret}` },
    body: JSON.stringify({
      event: 'lead.captured.v1',
      payload: {
        eventId: randomUUID(),
        occurredAt: new Date().toISOString(),
        brandId: key.brandId,
        email: 'lead@example.com',
        source: 'vsl_form',
        attribution: { utm_source: 'newsletter', utm_medium: 'email', utm_campaign: 'winter-sale', landingPage: 'https://example.com/vsl' },
        personId: null
      }
    })
  }
}

export function listEvents (key: BenchKey): Request {
  return { method: 'GET', path: '/api/events?limit=20', headers: { authorization: `Bearer ${key.secret}` } }
}

// Shopify's documented orders/create example (1.7 KB), with a fresh order id in front of the rest
// of its bytes for every delivery: the order id is the stored event's eventId, so a repeated one
// would be answered as a duplicate instead of stored.
const shopifyOrder = readFileSync(new URL('../test/fixtures/webhooks/shopify-orders-create.json', import.meta.url), 'utf8').trim()
const shopifyOrderId = /^\{"id":\d+,/.exec(shopifyOrder)?.[0]
if (shopifyOrderId === undefined) throw new Error('the Shopify order fixture no longer starts with its id')
const shopifyOrderRest = shopifyOrder.slice(shopifyOrderId.length)
let shopifyOrders = BigInt(Date.now()) * 100_000n

/** A fresh orders/create delivery to `path`, signed as Shopify signs: base64 HMAC-SHA256 of the body. */
export function shopifyOrderCreated (path: string, secret: string): Request {
  const body = `{"id":${++shopifyOrders},${shopifyOrderRest}`
  return {
    method: 'POST',
    path,
    headers: {
      'content-type': 'application/json',
      'x-shopify-topic': 'orders/create',
      'x-shopify-webhook-id': randomUUID(),
      'x-shopify-hmac-sha256': createHmac('sha256', secret).update(body, 'utf8').digest('base64')
    },
    body
  }
}
