import t from 'tap'
import { createHmac } from 'node:crypto'
import { Webhook } from 'standardwebhooks'
import { generateWebhookSecret, loopSignature, outboundHeaders, standardSignature } from '../../../lib/signing/outbound.ts'

const specSecret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'
const zeroSecret = 'whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA='
const unicodeBody = '{"id":"1","type":"lead.captured.v1","createdAt":"2026-05-19T12:00:00.000Z","data":{"email":"ü@example.com"}}'

// Expected values computed independently with Python's hmac, the library of the Flask receiver (examples/receivers/flask).
const loopCases = [
  { name: 'the Standard Webhooks sample body', body: '{"test": 2432232314}', secret: specSecret, hex: '80ec8a89ce3cd22133a1066caecb4d04fea7467657c8514d717ec42c38a5c94c' },
  { name: 'non-ASCII bodies are signed as UTF-8 bytes', body: unicodeBody, secret: zeroSecret, hex: '52299a1d5fb87bd6640293b9ee18d6cfce1c3b0ceb6c2e8151918774cac65358' },
  { name: 'the secret is keyed as a string, whsec_ prefix and all', body: '', secret: 'whsec_x', hex: '505df42dde47725c47e7246259168c36d0747ba8b80efd74931b6457cb67ceaa' },
  { name: 'digits beyond 2^53 are signed as written', body: '{"n":820982911946154508}', secret: specSecret, hex: '0b86d8ec17250b00539be113ddadaa1b1ffc5f8ecf8d75fe5aa776a25665ca81' }
]

for (const c of loopCases) {
  t.test(`X-Loop-Signature: ${c.name}`, async (t) => {
    t.equal(loopSignature(c.body, c.secret), c.hex)
    // Seed 003's Express check, verbatim in spirit: HMAC of the raw body bytes keyed with the secret.
    t.equal(createHmac('sha256', c.secret).update(Buffer.from(c.body, 'utf8')).digest('hex'), c.hex)
  })
}

const standardCases = [
  { name: 'the Standard Webhooks specification vector', id: 'msg_p5jXN8AQM9LWM0D4loKWxJek', timestamp: 1614265330, body: '{"test": 2432232314}', secret: specSecret, signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=' },
  { name: 'a Loop message with non-ASCII data', id: '0b6f1d7e-8c55-4c3a-9f0e-6a2b8d1c4e90', timestamp: 1764072000, body: unicodeBody, secret: zeroSecret, signature: 'v1,VPFUcdvrPZdeIqGAFUGrohwFiM9zESrWEhorWpZNgW8=' }
]

for (const c of standardCases) {
  t.test(`webhook-signature: ${c.name}`, async (t) => {
    t.equal(standardSignature(c.id, c.timestamp, c.body, c.secret), c.signature)
    t.equal(new Webhook(c.secret).sign(c.id, new Date(c.timestamp * 1000), c.body), c.signature, 'the standardwebhooks package agrees')
  })
}

t.test('generated secrets are whsec_ and 32 random bytes in base64, and differ', async (t) => {
  const a = generateWebhookSecret()
  const b = generateWebhookSecret()
  t.match(a, /^whsec_[A-Za-z0-9+/]{43}=$/)
  t.equal(Buffer.from(a.slice(6), 'base64').length, 32)
  t.not(a, b)
  t.equal(generateWebhookSecret((n) => Buffer.alloc(n)), zeroSecret)
})

const now = () => Math.floor(Date.now() / 1000)
const base = { body: unicodeBody, messageId: 'msg-1', deliveryId: 'dlv-1', eventType: 'lead.captured.v1' }

t.test('headers of one attempt verify with the seed check and with standardwebhooks', async (t) => {
  const secret = generateWebhookSecret()
  const headers = outboundHeaders({ ...base, timestamp: now(), secret })
  t.match(headers, { 'content-type': 'application/json', 'x-loop-event': 'lead.captured.v1', 'x-loop-delivery': 'dlv-1', 'webhook-id': 'msg-1' })
  t.equal(headers['x-loop-signature'], createHmac('sha256', secret).update(unicodeBody).digest('hex'))
  t.notOk('x-loop-signature-previous' in headers, 'no previous signature outside a rotation')
  t.match(headers['webhook-signature'], /^v1,[A-Za-z0-9+/]+=*$/)
  t.same(new Webhook(secret).verify(unicodeBody, headers), JSON.parse(unicodeBody))
})

t.test('during a rotation both secrets verify: two webhook signatures (new first) and X-Loop-Signature-Previous', async (t) => {
  const oldSecret = generateWebhookSecret()
  const newSecret = generateWebhookSecret()
  const timestamp = now()
  const headers = outboundHeaders({ ...base, timestamp, secret: newSecret, previousSecret: oldSecret })
  const signatures = (headers['webhook-signature'] ?? '').split(' ')
  t.same(signatures, [standardSignature('msg-1', timestamp, unicodeBody, newSecret), standardSignature('msg-1', timestamp, unicodeBody, oldSecret)])
  t.equal(headers['x-loop-signature'], loopSignature(unicodeBody, newSecret))
  t.equal(headers['x-loop-signature-previous'], loopSignature(unicodeBody, oldSecret))
  t.ok(new Webhook(newSecret).verify(unicodeBody, headers), 'the new secret verifies')
  t.ok(new Webhook(oldSecret).verify(unicodeBody, headers), 'the old secret still verifies')
  t.throws(() => new Webhook(generateWebhookSecret()).verify(unicodeBody, headers), 'an unrelated secret does not')
})

t.test('a changed body or a stale timestamp fails Standard Webhooks verification', async (t) => {
  const secret = generateWebhookSecret()
  const headers = outboundHeaders({ ...base, timestamp: now(), secret })
  t.throws(() => new Webhook(secret).verify(unicodeBody.replace('ü', 'u'), headers))
  const stale = outboundHeaders({ ...base, timestamp: now() - 600, secret })
  t.throws(() => new Webhook(secret).verify(unicodeBody, stale), /too old/)
})
