// verifyWebhook (the built @loop/sdk) on deliveries Loop really sent: both signature schemes,
// Node and Fetch header shapes, and every way a forged or altered delivery must fail.
import t from 'tap'
import { createClient, verifyWebhook, WebhookVerificationError } from '@loop/sdk'
import { startReceiver } from '../receiver.ts'
import { listeningLoop } from './loop-server.ts'
import { lead } from '../webhook-api.ts'

const loop = await listeningLoop(t, { LOOP_ALLOW_PRIVATE_URLS: 'true', LOOP_DELIVERY_SCHEDULE: '100ms,100ms' })
const receiver = await startReceiver(t)
const client = createClient({ baseUrl: loop.baseUrl, apiKey: await loop.keyWith(['events:write', 'events:read', 'webhooks:manage']) })

const endpoint = await client.POST('/api/webhooks', { body: { url: receiver.url, events: ['lead.captured.v1'] } })
if (endpoint.data === undefined) throw new Error(`register failed: ${JSON.stringify(endpoint.error)}`)
const secret = endpoint.data.secret
const payload = lead()
const sent = await client.POST('/api/events', { body: { event: 'lead.captured.v1', payload } })
if (sent.response.status !== 200) throw new Error(`send failed: ${sent.response.status}`)
const [delivery] = await receiver.waitFor(1)
if (delivery === undefined) throw new Error('no delivery')
const { headers, body } = delivery

t.test('a real delivery verifies and parses', async (t) => {
  const message = verifyWebhook(body, headers, secret)
  t.equal(message.type, 'lead.captured.v1')
  t.same(message.data, payload)
  t.equal(message.id, headers['webhook-id'])
  t.same(verifyWebhook(body.toString('utf8'), new Headers(headers as Record<string, string>), secret), message, 'string body and Fetch Headers too')
})

t.test('X-Loop-Signature alone verifies (seed 003 receivers)', async (t) => {
  const { 'webhook-signature': _s, 'webhook-id': _i, 'webhook-timestamp': _ts, ...loopOnly } = headers
  t.equal(verifyWebhook(body, loopOnly, secret).type, 'lead.captured.v1')
  t.equal(verifyWebhook(body, { ...loopOnly, 'x-loop-signature': 'ab'.repeat(32), 'x-loop-signature-previous': loopOnly['x-loop-signature'] }, secret).type,
    'lead.captured.v1', 'the previous-secret header counts during a rotation')
})

t.test('forged, altered or stale deliveries throw', async (t) => {
  const altered = Buffer.from(body.toString('utf8').replace('user@example.com', 'evil@example.com'))
  t.throws(() => verifyWebhook(altered, headers, secret), WebhookVerificationError)
  t.throws(() => verifyWebhook(body, headers, 'whsec_' + Buffer.alloc(32).toString('base64')), WebhookVerificationError, 'wrong secret')
  const { 'webhook-signature': _s, 'webhook-id': _i, 'webhook-timestamp': _ts, ...loopOnly } = headers
  t.throws(() => verifyWebhook(altered, loopOnly, secret), WebhookVerificationError, 'altered body, Loop scheme')
  const stale = String(Number(headers['webhook-timestamp']) - 600)
  t.throws(() => verifyWebhook(body, { ...headers, 'webhook-timestamp': stale }, secret), WebhookVerificationError, 'outside the 5-minute window')
  t.throws(() => verifyWebhook(body, {}, secret), { name: 'WebhookVerificationError', message: /No signature/ })
  t.throws(() => verifyWebhook(JSON.parse(body.toString('utf8')) as never, headers, secret), { name: 'WebhookVerificationError', message: /rawBody/ })
  t.throws(() => verifyWebhook(body, headers, ''), WebhookVerificationError)
})
