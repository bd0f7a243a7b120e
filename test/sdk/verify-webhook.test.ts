// verifyWebhook (the built @loop/sdk) on deliveries Loop really sent: the timestamped Standard
// Webhooks headers are required, the bare X-Loop-Signature check is a separate, plainly named
// opt-in, and every way a forged, altered or stale delivery fails says which it was.
import t from 'tap'
import { Webhook } from 'standardwebhooks'
import { createClient, verifyLoopSignatureWithoutReplayProtection, verifyWebhook, WebhookVerificationError } from '@loop/sdk'
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
const { 'webhook-signature': _s, 'webhook-id': _i, 'webhook-timestamp': _ts, ...loopOnly } = headers

/** The same delivery as Loop would have signed it `offsetSeconds` from now (the Standard Webhooks package signs). */
function signedAt (offsetSeconds: number): typeof headers {
  const at = new Date(Date.now() + offsetSeconds * 1000)
  return { ...headers, 'webhook-timestamp': String(Math.floor(at.getTime() / 1000)), 'webhook-signature': new Webhook(secret).sign(String(headers['webhook-id']), at, body.toString('utf8')) }
}

t.test('a real delivery verifies and parses', async (t) => {
  const message = verifyWebhook(body, headers, secret)
  t.equal(message.type, 'lead.captured.v1')
  t.same(message.data, payload)
  t.equal(message.id, headers['webhook-id'])
  t.same(verifyWebhook(body.toString('utf8'), new Headers(headers as Record<string, string>), secret), message, 'string body and Fetch Headers too')
})

t.test('with the webhook-* headers stripped, X-Loop-Signature alone is refused: it has no timestamp, so a replay would pass', async (t) => {
  t.throws(() => verifyWebhook(body, loopOnly, secret), { name: 'WebhookVerificationError', code: 'missing_signature', message: /webhook-timestamp/ })
  t.throws(() => verifyWebhook(body, { ...loopOnly, 'webhook-signature': headers['webhook-signature'] }, secret), { code: 'missing_signature' }, 'a signature without its id and timestamp')
})

t.test('verifyLoopSignatureWithoutReplayProtection is the explicit opt-in for X-Loop-Signature alone (seed 003 receivers)', async (t) => {
  t.equal(verifyLoopSignatureWithoutReplayProtection(body, loopOnly, secret).type, 'lead.captured.v1')
  t.equal(verifyLoopSignatureWithoutReplayProtection(body, { ...loopOnly, 'x-loop-signature': 'ab'.repeat(32), 'x-loop-signature-previous': loopOnly['x-loop-signature'] }, secret).type,
    'lead.captured.v1', 'the previous-secret header counts during a rotation')
  const altered = Buffer.from(body.toString('utf8').replace('user@example.com', 'evil@example.com'))
  t.throws(() => verifyLoopSignatureWithoutReplayProtection(altered, loopOnly, secret), { code: 'invalid_signature' })
  t.throws(() => verifyLoopSignatureWithoutReplayProtection(body, {}, secret), { code: 'missing_signature', message: /X-Loop-Signature/ })
})

t.test('a stale or future timestamp and a bad signature say different things', async (t) => {
  t.equal(verifyWebhook(body, signedAt(-60), secret).type, 'lead.captured.v1', 'a minute old is inside the window')
  t.throws(() => verifyWebhook(body, signedAt(-600), secret), { name: 'WebhookVerificationError', code: 'timestamp_too_old', message: /older than 5 minutes/ })
  t.throws(() => verifyWebhook(body, signedAt(600), secret), { code: 'timestamp_too_new', message: /ahead/ })
  const altered = Buffer.from(body.toString('utf8').replace('user@example.com', 'evil@example.com'))
  t.throws(() => verifyWebhook(altered, headers, secret), { code: 'invalid_signature', message: /does not match/ })
  t.throws(() => verifyWebhook(body, headers, 'whsec_' + Buffer.alloc(32).toString('base64')), { code: 'invalid_signature' }, 'wrong secret')
  t.throws(() => verifyWebhook(body, { ...headers, 'webhook-timestamp': 'soon' }, secret), { code: 'invalid_signature', message: /webhook-timestamp/ })
})

t.test('misuse throws with its own code', async (t) => {
  t.throws(() => verifyWebhook(body, {}, secret), { code: 'missing_signature', message: /webhook-id, webhook-timestamp, webhook-signature/ })
  t.throws(() => verifyWebhook(JSON.parse(body.toString('utf8')) as never, headers, secret), { code: 'invalid_body', message: /rawBody/ })
  t.throws(() => verifyWebhook(body, headers, ''), { code: 'missing_secret' })
  t.ok(new WebhookVerificationError('invalid_signature', 'x') instanceof Error)
})
