// verifyWebhook (the built @loop/sdk) on deliveries Loop really sent: the timestamped Standard
// Webhooks headers are required, the bare X-Loop-Signature check is a separate, plainly named
// opt-in, and every way a forged, altered or stale delivery fails says which it was. Both run on
// Web Crypto (async); their answers are checked against the server's own node:crypto verifier.
import t from 'tap'
import { Webhook } from 'standardwebhooks'
import { createClient, verifyLoopSignatureWithoutReplayProtection, verifyWebhook, WebhookVerificationError } from '@loop/sdk'
import { startReceiver } from '../receiver.ts'
import { listeningLoop } from './loop-server.ts'
import { lead } from '../webhook-api.ts'
import { checkStandardWebhook } from '../../lib/signing/inbound.ts'

const loop = await listeningLoop(t, { LOOP_ALLOW_PRIVATE_URLS: 'true', LOOP_DELIVERY_SCHEDULE: '100ms,100ms' }, { deliveryWorker: true })
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
  const message = await verifyWebhook(body, headers, secret)
  t.equal(message.type, 'lead.captured.v1')
  t.same(message.data, payload)
  t.equal(message.id, headers['webhook-id'])
  t.same(await verifyWebhook(body.toString('utf8'), new Headers(headers as Record<string, string>), secret), message, 'string body and Fetch Headers too')
})

t.test('with the webhook-* headers stripped, X-Loop-Signature alone is refused: it has no timestamp, so a replay would pass', async (t) => {
  await t.rejects(verifyWebhook(body, loopOnly, secret), { name: 'WebhookVerificationError', code: 'missing_signature', message: /webhook-timestamp/ })
  await t.rejects(verifyWebhook(body, { ...loopOnly, 'webhook-signature': headers['webhook-signature'] }, secret), { code: 'missing_signature' }, 'a signature without its id and timestamp')
})

t.test('verifyLoopSignatureWithoutReplayProtection is the explicit opt-in for X-Loop-Signature alone (docs/webhooks.md#receivers receivers)', async (t) => {
  t.equal((await verifyLoopSignatureWithoutReplayProtection(body, loopOnly, secret)).type, 'lead.captured.v1')
  t.equal((await verifyLoopSignatureWithoutReplayProtection(body, { ...loopOnly, 'x-loop-signature': 'ab'.repeat(32), 'x-loop-signature-previous': loopOnly['x-loop-signature'] }, secret)).type,
    'lead.captured.v1', 'the previous-secret header counts during a rotation')
  const altered = Buffer.from(body.toString('utf8').replace('user@example.com', 'evil@example.com'))
  await t.rejects(verifyLoopSignatureWithoutReplayProtection(altered, loopOnly, secret), { code: 'invalid_signature' })
  await t.rejects(verifyLoopSignatureWithoutReplayProtection(body, {}, secret), { code: 'missing_signature', message: /X-Loop-Signature/ })
})

t.test('a stale or future timestamp and a bad signature say different things', async (t) => {
  t.equal((await verifyWebhook(body, signedAt(-60), secret)).type, 'lead.captured.v1', 'a minute old is inside the window')
  await t.rejects(verifyWebhook(body, signedAt(-600), secret), { name: 'WebhookVerificationError', code: 'timestamp_too_old', message: /older than 5 minutes/ })
  await t.rejects(verifyWebhook(body, signedAt(600), secret), { code: 'timestamp_too_new', message: /ahead/ })
  const altered = Buffer.from(body.toString('utf8').replace('user@example.com', 'evil@example.com'))
  await t.rejects(verifyWebhook(altered, headers, secret), { code: 'invalid_signature', message: /does not match/ })
  await t.rejects(verifyWebhook(body, headers, 'whsec_' + Buffer.alloc(32).toString('base64')), { code: 'invalid_signature' }, 'wrong secret')
  await t.rejects(verifyWebhook(body, { ...headers, 'webhook-timestamp': 'soon' }, secret), { code: 'invalid_signature', message: /webhook-timestamp/ })
})

t.test('during a rotation any v1 signature of the list verifies; bodies may be bytes of any kind', async (t) => {
  const other = 'whsec_' + Buffer.alloc(32, 7).toString('base64')
  const at = new Date()
  const rotated = { ...headers, 'webhook-timestamp': String(Math.floor(at.getTime() / 1000)), 'webhook-signature': [new Webhook(other).sign(String(headers['webhook-id']), at, body.toString('utf8')), new Webhook(secret).sign(String(headers['webhook-id']), at, body.toString('utf8'))].join(' ') }
  t.equal((await verifyWebhook(body, rotated, secret)).type, 'lead.captured.v1', 'the second signature is this secret\'s')
  t.equal((await verifyWebhook(body, rotated, other)).type, 'lead.captured.v1', 'the first is the other secret\'s')
  const arrayBuffer = new Uint8Array(body).buffer
  t.equal((await verifyWebhook(arrayBuffer, headers, secret)).id, headers['webhook-id'], 'an ArrayBuffer (await request.arrayBuffer())')
  t.equal((await verifyWebhook(new Uint8Array(body), headers, secret)).id, headers['webhook-id'], 'a plain Uint8Array')
  await t.rejects(verifyWebhook(body, { ...headers, 'webhook-signature': [String(headers['webhook-signature']), String(headers['webhook-signature'])] }, secret), { code: 'missing_signature' },
    'a repeated header is ambiguous, as on the server')
})

t.test('the answers are the server\'s own verifier\'s (lib/signing/inbound.ts), whsec_ and plain secrets alike', async (t) => {
  const plain = 'a-shared-secret-of-a-custom-sender'
  const plainKey = Buffer.from(plain, 'utf8').toString('base64')
  const cases: Array<[string, typeof headers, string, string | Buffer]> = [
    ['the real delivery', headers, secret, body],
    ['a minute old', signedAt(-60), secret, body],
    ['stale', signedAt(-600), secret, body],
    ['future', signedAt(600), secret, body],
    ['altered body', headers, secret, Buffer.from(body.toString('utf8').replace('user', 'evil'))],
    ['a plain secret, signed with its bytes', { ...headers, 'webhook-signature': new Webhook(plainKey).sign(String(headers['webhook-id']), new Date(Number(headers['webhook-timestamp']) * 1000), body.toString('utf8')) }, plain, body],
    ['a plain secret, signed otherwise', headers, plain, body],
    ['no v1 signature', { ...headers, 'webhook-signature': 'v2,' + String(headers['webhook-signature']).slice(3) }, secret, body],
    ['a signature that is not base64', { ...headers, 'webhook-signature': 'v1,***' }, secret, body]
  ]
  for (const [what, h, key, raw] of cases) {
    const server = checkStandardWebhook(Buffer.from(raw), h, key)
    const sdk = await verifyWebhook(raw, h, key).then(() => 'valid', (error: WebhookVerificationError) => error.code)
    const expected = server === 'valid' ? 'valid' : server === 'missing_headers' ? 'missing_signature' : server === 'invalid_timestamp' ? 'invalid_signature' : server
    t.equal(sdk, expected, what)
  }
})

t.test('misuse throws with its own code', async (t) => {
  await t.rejects(verifyWebhook(body, {}, secret), { code: 'missing_signature', message: /webhook-id, webhook-timestamp, webhook-signature/ })
  await t.rejects(verifyWebhook(JSON.parse(body.toString('utf8')) as never, headers, secret), { code: 'invalid_body', message: /rawBody/ })
  await t.rejects(verifyWebhook(body, headers, ''), { code: 'missing_secret' })
  t.ok(new WebhookVerificationError('invalid_signature', 'x') instanceof Error)
})
