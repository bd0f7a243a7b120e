// Each source's scheme, signed here independently with node:crypto (and standardwebhooks).
import t from 'tap'
import { createHmac } from 'node:crypto'
import { Webhook } from 'standardwebhooks'
import { checkStandardWebhook, verifyCalendlySignature, verifyCustomSignature, verifyShopifySignature, verifyStandardWebhook, verifyTypeformSignature } from '../../../lib/signing/inbound.ts'

const body = Buffer.from('{"id":820982911946154508}')
const secret = 'shh-secret'
const b64 = (key: string, data: Buffer | string) => createHmac('sha256', key).update(data).digest('base64')
const hex = (key: string, data: Buffer | string) => createHmac('sha256', key).update(data).digest('hex')

t.test('Shopify', async (t) => {
  t.ok(verifyShopifySignature(body, { 'x-shopify-hmac-sha256': b64(secret, body) }, secret))
  t.notOk(verifyShopifySignature(body, { 'x-shopify-hmac-sha256': b64('other', body) }, secret))
  t.notOk(verifyShopifySignature(body, {}, secret))
  t.notOk(verifyShopifySignature(body, { 'x-shopify-hmac-sha256': [b64(secret, body), b64(secret, body)] }, secret), 'a repeated header is refused')
  t.notOk(verifyShopifySignature(body, { 'x-shopify-hmac-sha256': 'not base64!' }, secret))
})

t.test('Typeform', async (t) => {
  t.ok(verifyTypeformSignature(body, { 'typeform-signature': `sha256=${b64(secret, body)}` }, secret))
  t.notOk(verifyTypeformSignature(body, { 'typeform-signature': b64(secret, body) }, secret), 'the sha256= prefix is required')
})

t.test('Calendly, with its 3-minute window', async (t) => {
  const now = Date.now()
  const at = Math.floor(now / 1000)
  const header = (ts: number) => ({ 'calendly-webhook-signature': `t=${ts},v1=${hex(secret, `${ts}.${body.toString()}`)}` })
  t.ok(verifyCalendlySignature(body, header(at), secret, now))
  t.ok(verifyCalendlySignature(body, header(at - 170), secret, now))
  t.notOk(verifyCalendlySignature(body, header(at - 190), secret, now), 'stale')
  t.notOk(verifyCalendlySignature(body, { 'calendly-webhook-signature': `t=${at},v1=${hex('other', `${at}.${body.toString()}`)}` }, secret, now))
  t.notOk(verifyCalendlySignature(body, { 'calendly-webhook-signature': 'garbage' }, secret, now))
})

t.test('Standard Webhooks with a raw client secret (BigCommerce) and with whsec_ keys', async (t) => {
  const raw = new Webhook(Buffer.from(secret).toString('base64'))
  const at = new Date()
  const headers = { 'webhook-id': 'msg_1', 'webhook-timestamp': String(Math.floor(at.getTime() / 1000)), 'webhook-signature': raw.sign('msg_1', at, body) }
  t.ok(verifyStandardWebhook(body, headers, secret))
  t.notOk(verifyStandardWebhook(body, { ...headers, 'webhook-id': 'msg_2' }, secret))
  const whsec = 'whsec_' + Buffer.from('0123456789abcdef0123456789abcdef').toString('base64')
  const keyed = new Webhook(whsec)
  t.ok(verifyStandardWebhook(body, { ...headers, 'webhook-signature': keyed.sign('msg_1', at, body) }, whsec))
  const old = new Date(Date.now() - 10 * 60_000)
  t.notOk(verifyStandardWebhook(body, { 'webhook-id': 'msg_1', 'webhook-timestamp': String(Math.floor(old.getTime() / 1000)), 'webhook-signature': raw.sign('msg_1', old, body) }, secret), 'outside 5 minutes')
})

t.test('Standard Webhooks refusals say why: a stale or future delivery is not reported as forged', async (t) => {
  const raw = new Webhook(Buffer.from(secret).toString('base64'))
  const now = Date.now()
  const signed = (offsetSeconds: number) => {
    const at = new Date(now + offsetSeconds * 1000)
    return { 'webhook-id': 'msg_1', 'webhook-timestamp': String(Math.floor(at.getTime() / 1000)), 'webhook-signature': raw.sign('msg_1', at, body) }
  }
  const cases: [string, Record<string, string>, string][] = [
    ['fresh', signed(0), 'valid'],
    ['299 s old', signed(-299), 'valid'],
    ['301 s old', signed(-301), 'timestamp_too_old'],
    ['301 s ahead', signed(301), 'timestamp_too_new'],
    ['another id', { ...signed(0), 'webhook-id': 'msg_2' }, 'invalid_signature'],
    ['a timestamp that is no number', { ...signed(0), 'webhook-timestamp': '17e8' }, 'invalid_timestamp'],
    ['no webhook-id', { 'webhook-timestamp': signed(0)['webhook-timestamp'], 'webhook-signature': signed(0)['webhook-signature'] }, 'missing_headers'],
    ['nothing', {}, 'missing_headers']
  ]
  for (const [name, headers, expected] of cases) t.equal(checkStandardWebhook(body, headers, secret, now), expected, name)
})

t.test('custom senders: X-Loop-Signature or Standard Webhooks', async (t) => {
  t.ok(verifyCustomSignature(body, { 'x-loop-signature': hex(secret, body) }, secret))
  t.notOk(verifyCustomSignature(body, { 'x-loop-signature': hex(secret, body).slice(2) }, secret))
  t.notOk(verifyCustomSignature(body, {}, secret))
})
