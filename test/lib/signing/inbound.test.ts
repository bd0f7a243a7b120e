// Each source's scheme, signed here independently with node:crypto (and standardwebhooks).
import t from 'tap'
import { createHmac } from 'node:crypto'
import { Webhook } from 'standardwebhooks'
import { verifyCalendlySignature, verifyCustomSignature, verifyShopifySignature, verifyStandardWebhook, verifyTypeformSignature } from '../../../lib/signing/inbound.ts'

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

t.test('custom senders: X-Loop-Signature or Standard Webhooks', async (t) => {
  t.ok(verifyCustomSignature(body, { 'x-loop-signature': hex(secret, body) }, secret))
  t.notOk(verifyCustomSignature(body, { 'x-loop-signature': hex(secret, body).slice(2) }, secret))
  t.notOk(verifyCustomSignature(body, {}, secret))
})
