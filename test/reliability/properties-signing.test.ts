// Properties of every signature scheme (lib/signing/*), with fast-check: a signature made the
// provider's way (node:crypto or the standardwebhooks package, never the code under test) always
// verifies; changing any one byte of the body, or of the signature's bytes, makes it fail; another
// secret fails; and no header value, however malformed, makes a verifier throw.
import t from 'tap'
import fc from 'fast-check'
import { createHmac } from 'node:crypto'
import { Webhook } from 'standardwebhooks'
import { verifyGithubSignature } from '../../lib/signing/github.ts'
import { verifyCalendlySignature, verifyCustomSignature, verifyLoopSignature, verifyShopifySignature, verifyStandardWebhook, verifyTypeformSignature, type Headers } from '../../lib/signing/inbound.ts'
import { outboundHeaders } from '../../lib/signing/outbound.ts'
import { verifyPosthogSecret } from '../../lib/signing/posthog.ts'
import { verifySentrySignature } from '../../lib/signing/sentry.ts'

// LOOP_PROPERTY_RUNS=5000 npm test -- test/reliability/properties-*.test.ts searches deeper.
const runs = { numRuns: Number(process.env.LOOP_PROPERTY_RUNS ?? 300) }
const mac = (secret: string, data: Buffer | string) => createHmac('sha256', secret).update(data).digest()

const body = fc.uint8Array({ maxLength: 2048 }).map((bytes) => Buffer.from(bytes))
const secret = fc.oneof(fc.string({ minLength: 1, maxLength: 64 }), fc.string({ minLength: 1, maxLength: 64, unit: 'grapheme' }))
/** A position in a non-empty buffer and a non-zero XOR mask: exactly one byte changes. */
const oneByteChange = fc.record({ at: fc.nat(), mask: fc.integer({ min: 1, max: 255 }) })
function changeOneByte (bytes: Buffer, change: { at: number, mask: number }): Buffer {
  const copy = Buffer.from(bytes)
  const index = change.at % copy.length
  copy[index] = (copy[index] as number) ^ change.mask
  return copy
}
/** Header values a hostile sender may put anywhere: any text, repeated headers, nothing. */
const garbage = fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.array(fc.string(), { maxLength: 3 }), fc.constant(undefined), fc.constantFrom('sha256=', 't=,v1=', 'v1,', '=', 'sha256=zz', 't=99999999999999999999,v1=00'))

interface Scheme {
  name: string
  /** The headers the provider sends for `raw`, computed the provider's way. */
  sign: (raw: Buffer, secret: string, mac: Buffer) => Headers
  verify: (raw: Buffer, headers: Headers, secret: string) => boolean
  /** The header carrying the signature, and how the MAC bytes are written into it. */
  header: string
  encode: (mac: Buffer) => string
}

const nowSeconds = () => Math.floor(Date.now() / 1000)
const schemes: Scheme[] = [
  { name: 'GitHub X-Hub-Signature-256', header: 'x-hub-signature-256', encode: (m) => `sha256=${m.toString('hex')}`, sign: (_r, _s, m) => ({ 'x-hub-signature-256': `sha256=${m.toString('hex')}` }), verify: (r, h, s) => verifyGithubSignature(r, h['x-hub-signature-256'] as string | undefined, s) },
  { name: 'Sentry-Hook-Signature', header: 'sentry-hook-signature', encode: (m) => m.toString('hex'), sign: (_r, _s, m) => ({ 'sentry-hook-signature': m.toString('hex') }), verify: (r, h, s) => verifySentrySignature(r, h['sentry-hook-signature'] as string | undefined, s) },
  { name: 'Shopify X-Shopify-Hmac-Sha256', header: 'x-shopify-hmac-sha256', encode: (m) => m.toString('base64'), sign: (_r, _s, m) => ({ 'x-shopify-hmac-sha256': m.toString('base64') }), verify: verifyShopifySignature },
  { name: 'Typeform-Signature', header: 'typeform-signature', encode: (m) => `sha256=${m.toString('base64')}`, sign: (_r, _s, m) => ({ 'typeform-signature': `sha256=${m.toString('base64')}` }), verify: verifyTypeformSignature },
  { name: 'X-Loop-Signature (custom senders)', header: 'x-loop-signature', encode: (m) => m.toString('hex'), sign: (_r, _s, m) => ({ 'x-loop-signature': m.toString('hex') }), verify: verifyCustomSignature }
]

t.test('a signature made the provider\'s way always verifies, and fails under another secret', async (t) => {
  for (const scheme of schemes) {
    fc.assert(fc.property(body, secret, secret, (raw, key, other) => {
      const headers = scheme.sign(raw, key, mac(key, raw))
      if (!scheme.verify(raw, headers, key)) throw new Error('a valid signature did not verify')
      if (other !== key && scheme.verify(raw, headers, other)) throw new Error('another secret verified')
    }), runs)
    t.pass(scheme.name)
  }
})

t.test('any one-byte change to the body fails', async (t) => {
  for (const scheme of schemes) {
    fc.assert(fc.property(body.filter((b) => b.length > 0), secret, oneByteChange, (raw, key, change) => {
      const changed = changeOneByte(raw, change)
      const verified = scheme.verify(changed, scheme.sign(raw, key, mac(key, raw)), key)
      // Sentry also accepts the HMAC of JSON.stringify(JSON.parse(body)) (docs/signals.md#sentry); that
      // form signs the value, not the bytes, so only a change JSON.parse cannot see may pass.
      if (verified && !(scheme.header === 'sentry-hook-signature' && sameJsonValue(changed, raw))) throw new Error('a changed body verified')
    }), runs)
    t.pass(scheme.name)
  }
})

function sameJsonValue (a: Buffer, b: Buffer): boolean {
  try {
    return JSON.stringify(JSON.parse(a.toString('utf8'))) === b.toString('utf8')
  } catch {
    return false
  }
}

t.test('Sentry\'s canonical form: a signed JSON body changed by one byte passes only if it parses to the same value', async (t) => {
  const jsonBody = fc.jsonValue({ maxDepth: 3 }).map((v) => Buffer.from(JSON.stringify(v)))
  let passed = 0
  fc.assert(fc.property(jsonBody, secret, oneByteChange, (raw, key, change) => {
    const changed = changeOneByte(raw, change)
    const verified = verifySentrySignature(changed, mac(key, raw).toString('hex'), key)
    if (verified) passed++
    if (verified && !sameJsonValue(changed, raw)) throw new Error(`${changed.toString()} verified as ${raw.toString()}`)
  }), { numRuns: 1000 })
  t.pass(`${passed} of 1,000 changed bodies still verified, each one JSON-equal to the signed text`)
})

t.test('any change to the signature\'s bytes fails, and so does a truncated one', async (t) => {
  for (const scheme of schemes) {
    fc.assert(fc.property(body, secret, oneByteChange, fc.nat({ max: 31 }), (raw, key, change, cut) => {
      const good = mac(key, raw)
      if (scheme.verify(raw, { [scheme.header]: scheme.encode(changeOneByte(good, change)) }, key)) throw new Error('a changed signature verified')
      if (scheme.verify(raw, { [scheme.header]: scheme.encode(good.subarray(0, cut)) }, key)) throw new Error('a truncated signature verified')
    }), runs)
    t.pass(scheme.name)
  }
})

t.test('no header value makes a verifier throw', async (t) => {
  const verifiers: [string, (raw: Buffer, value: Headers[string], key: string) => boolean][] = [
    // Node joins a repeated header into one string for these two (only the Headers-typed
    // verifiers below can be handed an array), so that is how a repeat reaches them.
    ...schemes.map((s) => [s.name, (raw: Buffer, value: Headers[string], key: string) =>
      s.verify(raw, { [s.header]: Array.isArray(value) && s.name.match(/GitHub|Sentry/) !== null ? value.join(', ') : value }, key)] as [string, (raw: Buffer, value: Headers[string], key: string) => boolean]),
    ['Calendly', (raw, value, key) => verifyCalendlySignature(raw, { 'calendly-webhook-signature': value }, key)],
    ['Standard Webhooks', (raw, value, key) => verifyStandardWebhook(raw, { 'webhook-id': value, 'webhook-timestamp': value, 'webhook-signature': value }, key)],
    ['Standard Webhooks, whsec_ key', (raw, value, key) => verifyStandardWebhook(raw, { 'webhook-id': 'msg_1', 'webhook-timestamp': String(nowSeconds()), 'webhook-signature': value }, `whsec_${Buffer.from(key).toString('base64')}`)],
    ['Loop', (raw, value, key) => verifyLoopSignature(raw, { 'x-loop-signature': value }, key)],
    ['PostHog', (_raw, value, key) => verifyPosthogSecret(typeof value === 'string' ? value : undefined, key)]
  ]
  for (const [name, verify] of verifiers) {
    // PostHog's header is the secret itself: garbage that happens to equal it is the one true.
    fc.assert(fc.property(body, garbage, secret, (raw, value, key) => verify(raw, value, key) === (name === 'PostHog' && value === key)), runs)
    t.pass(name)
  }
})

t.test('Calendly: t=<unix>,v1=<hex HMAC of "t.body"> verifies within 3 minutes, and not after or when changed', async (t) => {
  fc.assert(fc.property(body, secret, fc.integer({ min: -600, max: 600 }), oneByteChange, (raw, key, skew, change) => {
    const now = Date.now()
    const ts = Math.floor(now / 1000) + skew
    const signature = mac(key, Buffer.concat([Buffer.from(`${ts}.`), raw])).toString('hex')
    const headers = { 'calendly-webhook-signature': `t=${ts},v1=${signature}` }
    const fresh = Math.abs(now / 1000 - ts) <= 180
    if (verifyCalendlySignature(raw, headers, key, now) !== fresh) throw new Error(`skew ${skew}s: expected ${fresh}`)
    if (raw.length > 0 && verifyCalendlySignature(changeOneByte(raw, change), headers, key, now)) throw new Error('a changed body verified')
    const otherTime = { 'calendly-webhook-signature': `t=${ts + 1},v1=${signature}` }
    if (verifyCalendlySignature(raw, otherTime, key, now)) throw new Error('the signature verified for another timestamp')
  }), runs)
  t.pass('Calendly')
})

t.test('Standard Webhooks (BigCommerce, custom senders): the standardwebhooks package\'s signature verifies; a changed body or id does not', async (t) => {
  // JSON bodies: the package's verify also parses the payload, so a non-JSON body never verifies
  // (fails closed; the inbound route would refuse it as 400 anyway).
  const jsonBody = fc.jsonValue({ maxDepth: 3 }).map((v) => Buffer.from(JSON.stringify(v)))
  fc.assert(fc.property(jsonBody, fc.uint8Array({ minLength: 24, maxLength: 32 }), fc.boolean(), oneByteChange, (raw, keyBytes, prefixed, change) => {
    const key = Buffer.from(keyBytes)
    const secretText = prefixed ? `whsec_${key.toString('base64')}` : key.toString('latin1')
    // A secret without whsec_ is used as its raw bytes, which is how BigCommerce keys it.
    const signer = new Webhook(prefixed ? key.toString('base64') : Buffer.from(secretText, 'utf8').toString('base64'))
    const id = 'msg_2C8q'
    const at = new Date()
    const headers = { 'webhook-id': id, 'webhook-timestamp': String(Math.floor(at.getTime() / 1000)), 'webhook-signature': signer.sign(id, at, raw) }
    if (!verifyStandardWebhook(raw, headers, secretText)) throw new Error('a valid signature did not verify')
    if (!verifyCustomSignature(raw, headers, secretText)) throw new Error('custom senders may sign this way')
    if (raw.length > 0 && verifyStandardWebhook(changeOneByte(raw, change), headers, secretText)) throw new Error('a changed body verified')
    if (verifyStandardWebhook(raw, { ...headers, 'webhook-id': `${id}x` }, secretText)) throw new Error('another message id verified')
  }), runs)
  t.pass('Standard Webhooks')
})

t.test('outbound: receivers verify Loop\'s headers with the seed\'s HMAC and with standardwebhooks; a changed body fails both', async (t) => {
  const secretBytes = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => `whsec_${Buffer.from(b).toString('base64')}`)
  fc.assert(fc.property(fc.jsonValue({ maxDepth: 3 }), secretBytes, fc.option(secretBytes, { nil: null }), oneByteChange, (data, key, previous, change) => {
    const text = JSON.stringify({ id: 'e1', type: 'lead.captured.v1', createdAt: '2026-05-19T12:00:00Z', data })
    const headers = outboundHeaders({ body: text, messageId: 'msg_1', deliveryId: 'd1', eventType: 'lead.captured.v1', timestamp: nowSeconds(), secret: key, previousSecret: previous })
    if (headers['x-loop-signature'] !== createHmac('sha256', key).update(text).digest('hex')) throw new Error('X-Loop-Signature is not the seed\'s HMAC')
    for (const receiverSecret of [key, ...(previous === null ? [] : [previous])]) {
      new Webhook(receiverSecret).verify(text, headers) // throws when it does not verify
      let rejection = ''
      try {
        new Webhook(receiverSecret).verify(changeOneByte(Buffer.from(text), change), headers)
      } catch (error) {
        rejection = (error as Error).message
      }
      // Refused for its signature, not merely because the changed text is no longer JSON.
      if (rejection !== 'No matching signature found') throw new Error(`a changed body was not refused for its signature (${rejection || 'verified'})`)
    }
  }), runs)
  t.pass('outbound signatures')
})

t.test('PostHog: the shared secret matches exactly that secret', async (t) => {
  fc.assert(fc.property(secret, fc.string(), (key, header) => verifyPosthogSecret(header, key) === (header === key)), runs)
  fc.assert(fc.property(secret, fc.nat(), fc.string({ minLength: 1, maxLength: 1 }), (key, at, char) => {
    const i = at % key.length
    const changed = key.slice(0, i) + char + key.slice(i + 1)
    return verifyPosthogSecret(changed, key) === (changed === key)
  }), runs)
  t.pass('PostHog')
})
