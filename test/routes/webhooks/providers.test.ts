// Each provider's documented example payload, signed the provider's way (node:crypto directly, and
// the standardwebhooks package for BigCommerce), through the real stack.
import t from 'tap'
import { createHmac, randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { Webhook } from 'standardwebhooks'
import { authHeaders, build, envelope } from '../../helper.ts'
import { sql } from '../../../lib/db/sql.ts'

const fixture = (name: string) => readFileSync(new URL(`../../fixtures/webhooks/${name}.json`, import.meta.url), 'utf8')
const app = await build(t)
const admin = await authHeaders(app, ['schemas:write', 'events:read', 'events:write'])
const secret = 'provider-secret-0123456789'

async function declare (body: Record<string, unknown>) {
  const res = await app.inject({ method: 'POST', url: '/api/events/types', headers: admin, payload: body })
  t.ok([200, 201].includes(res.statusCode), `declared ${String(body.webhookPath)}: ${res.body}`)
  return res
}
const post = (url: string, body: string, headers: Record<string, string>) =>
  app.inject({ method: 'POST', url, headers: { 'content-type': 'application/json', ...headers }, payload: body })
const storedEvent = async (id: string) => (await app.inject({ method: 'GET', url: `/api/events/${id}`, headers: admin })).json()
const rawBodyOf = async (id: string) => (await sql<{ raw_body: string }>(app.orm.em.fork(), 'select raw_body from event where id = ?', [id]))[0]?.raw_body

const shopifyHmac = (body: string, key = secret) => createHmac('sha256', key).update(body, 'utf8').digest('base64')

t.test('Shopify orders/create: accepted, transformed, and order id 820982911946154508 kept exactly', async (t) => {
  const declared = await declare({ name: 'order.completed.v1', source: 'shopify', webhookPath: '/webhooks/shopify/orders', secret })
  t.equal(declared.json().inbound.builtinTransform, true)
  t.notMatch(declared.body, secret, 'the secret is never returned')
  const body = fixture('shopify-orders-create')
  const webhookId = randomUUID()
  const res = await post('/webhooks/shopify/orders', body, { 'x-shopify-hmac-sha256': shopifyHmac(body), 'x-shopify-topic': 'orders/create', 'x-shopify-webhook-id': webhookId })
  t.equal(res.statusCode, 200, res.body)
  t.match(res.json(), { ok: true, id: /^[0-9a-f-]{36}$/, eventId: '820982911946154508', event: 'order.completed.v1' }, "Loop's id, and the payload's eventId as the transform made it")
  const event = await storedEvent(res.json().id)
  t.match(event, {
    event: 'order.completed.v1',
    eventId: '820982911946154508',
    source: 'webhook:shopify',
    payload: { eventId: '820982911946154508', orderId: '820982911946154508', customerId: '115310627314723954', email: 'jon@example.com', total: '403.00', currency: 'USD', orderNumber: '#9999', source: 'shopify', occurredAt: '2021-12-31T19:00:00-05:00' }
  })
  t.equal(await rawBodyOf(res.json().id), body, 'the raw payload text is preserved byte for byte')

  const again = await post('/webhooks/shopify/orders', body, { 'x-shopify-hmac-sha256': shopifyHmac(body), 'x-shopify-topic': 'orders/create', 'x-shopify-webhook-id': webhookId })
  t.equal(again.statusCode, 200)
  t.equal(again.json().duplicate, true)
  t.equal(again.json().id, res.json().id, 'a redelivery is stored once')
  t.equal(again.json().eventId, '820982911946154508')

  const wrong = await post('/webhooks/shopify/orders', body, { 'x-shopify-hmac-sha256': shopifyHmac(body, 'another-secret'), 'x-shopify-topic': 'orders/create' })
  t.equal(wrong.statusCode, 401)
  t.match(wrong.json(), envelope('UNAUTHORIZED'))
  const missing = await post('/webhooks/shopify/orders', body, { 'x-shopify-topic': 'orders/create' })
  t.equal(missing.statusCode, 401)
  const tampered = await post('/webhooks/shopify/orders', body.replace('403.00', '1.00'), { 'x-shopify-hmac-sha256': shopifyHmac(body), 'x-shopify-topic': 'orders/create' })
  t.equal(tampered.statusCode, 401)
})

t.test('Shopify customers/create and fulfillments/create use their built-in transforms', async (t) => {
  await declare({ name: 'customer.created.v1', source: 'shopify', webhookPath: '/webhooks/shopify/customers', secret })
  await declare({ name: 'fulfillment.created.v1', source: 'shopify', webhookPath: '/webhooks/shopify/fulfillments', secret })
  const customer = fixture('shopify-customers-create')
  const c = await post('/webhooks/shopify/customers', customer, { 'x-shopify-hmac-sha256': shopifyHmac(customer), 'x-shopify-topic': 'customers/create', 'x-shopify-webhook-id': randomUUID() })
  t.equal(c.statusCode, 200, c.body)
  t.match((await storedEvent(c.json().id)).payload, { customerId: '706405506930370084', email: 'bob@biller.com', firstName: 'Bob', lastName: 'Biller' })
  const fulfillment = fixture('shopify-fulfillments-create')
  const f = await post('/webhooks/shopify/fulfillments', fulfillment, { 'x-shopify-hmac-sha256': shopifyHmac(fulfillment), 'x-shopify-topic': 'fulfillments/create', 'x-shopify-webhook-id': randomUUID() })
  t.equal(f.statusCode, 200, f.body)
  t.match((await storedEvent(f.json().id)).payload, { fulfillmentId: '123456', orderId: '820982911946154508', trackingNumber: '1z827wk74630', status: 'pending' })
  const wrongTopic = await post('/webhooks/shopify/customers', fulfillment, { 'x-shopify-hmac-sha256': shopifyHmac(fulfillment), 'x-shopify-topic': 'fulfillments/create' })
  t.equal(wrongTopic.statusCode, 200)
  t.match(wrongTopic.json(), { ok: true, ignored: String })
})

const bigcommerce = new Webhook(Buffer.from(secret, 'utf8').toString('base64'))
const bigcommerceHeaders = (body: string, at = new Date(), id = `msg_${randomUUID()}`) => ({
  'webhook-id': id,
  'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
  'webhook-signature': bigcommerce.sign(id, at, body)
})

t.test('BigCommerce store/order/created and store/customer/created: Standard Webhooks, thin payloads', async (t) => {
  await declare({ name: 'order.completed.v1', source: 'bigcommerce', webhookPath: '/webhooks/bigcommerce/orders', secret })
  await declare({ name: 'customer.created.v1', source: 'bigcommerce', webhookPath: '/webhooks/bigcommerce/customers', secret })
  const order = fixture('bigcommerce-order-created')
  const headers = bigcommerceHeaders(order)
  const res = await post('/webhooks/bigcommerce/orders', order, headers)
  t.equal(res.statusCode, 200, res.body)
  t.match((await storedEvent(res.json().id)).payload, { eventId: '3f9ea420af83450d7ef9f78b08c8af25b2213637', orderId: '250', scope: 'store/order/created', storeHash: 'stores/abc123', occurredAt: '2019-06-25T16:15:35.000Z', source: 'bigcommerce' })
  const again = await post('/webhooks/bigcommerce/orders', order, headers)
  t.equal(again.json().duplicate, true, 'redelivery with the same webhook-id is stored once')
  const customer = fixture('bigcommerce-customer-created')
  const c = await post('/webhooks/bigcommerce/customers', customer, bigcommerceHeaders(customer))
  t.equal(c.statusCode, 200, c.body)
  t.match((await storedEvent(c.json().id)).payload, { customerId: '32' })

  const stale = await post('/webhooks/bigcommerce/orders', order, bigcommerceHeaders(order, new Date(Date.now() - 10 * 60_000)))
  t.equal(stale.statusCode, 401, 'a timestamp outside the 5-minute window is refused')
  const forged = new Webhook(Buffer.from('not-the-secret').toString('base64'))
  const id = `msg_${randomUUID()}`
  const now = new Date()
  const bad = await post('/webhooks/bigcommerce/orders', order, { 'webhook-id': id, 'webhook-timestamp': String(Math.floor(now.getTime() / 1000)), 'webhook-signature': forged.sign(id, now, order) })
  t.equal(bad.statusCode, 401)
})

const typeformSignature = (body: string, key = secret) => `sha256=${createHmac('sha256', key).update(body).digest('base64')}`

t.test('Typeform form_response: answers mapped, email found, event_id dedupes', async (t) => {
  await declare({ name: 'form.submitted.v1', source: 'typeform', webhookPath: '/webhooks/typeform/example', secret })
  const body = fixture('typeform-form-response')
  const res = await post('/webhooks/typeform/example', body, { 'typeform-signature': typeformSignature(body) })
  t.equal(res.statusCode, 200, res.body)
  const event = await storedEvent(res.json().id)
  t.match(event.payload, { eventId: 'LtWXD3crgy', formId: 'lT4Z3j', formTitle: 'Webhooks example', email: 'laura@example.com', occurredAt: '2018-01-18T18:17:02Z' })
  t.same(event.payload.answers[2], { fieldId: 'k6TP9oLGgHjl', fieldRef: 'readable_ref_multiple_choice', type: 'choices', value: 'London, Sydney' })
  const again = await post('/webhooks/typeform/example', body, { 'typeform-signature': typeformSignature(body) })
  t.equal(again.json().duplicate, true)
  const bad = await post('/webhooks/typeform/example', body, { 'typeform-signature': typeformSignature(body, 'wrong') })
  t.equal(bad.statusCode, 401)
})

const calendlySignature = (body: string, at = Math.floor(Date.now() / 1000), key = secret) =>
  `t=${at},v1=${createHmac('sha256', key).update(`${at}.${body}`).digest('hex')}`

t.test('Calendly invitee.created and invitee.canceled: signed t.body, 3-minute window', async (t) => {
  await declare({ name: 'booking.created.v1', source: 'calendly', webhookPath: '/webhooks/calendly/created', secret })
  await declare({ name: 'booking.canceled.v1', source: 'calendly', webhookPath: '/webhooks/calendly/canceled', secret })
  const created = fixture('calendly-invitee-created')
  const res = await post('/webhooks/calendly/created', created, { 'calendly-webhook-signature': calendlySignature(created) })
  t.equal(res.statusCode, 200, res.body)
  t.match((await storedEvent(res.json().id)).payload, { inviteeEmail: 'test@example.com', inviteeName: 'John Doe', startTime: '2019-08-24T14:15:22.123456Z', timezone: 'America/New_York' })
  const canceled = fixture('calendly-invitee-canceled')
  const c = await post('/webhooks/calendly/canceled', canceled, { 'calendly-webhook-signature': calendlySignature(canceled) })
  t.equal(c.statusCode, 200, c.body)
  t.match((await storedEvent(c.json().id)).payload, { canceledBy: 'John Doe', cancelReason: 'Something came up' })
  const again = await post('/webhooks/calendly/created', created, { 'calendly-webhook-signature': calendlySignature(created) })
  t.equal(again.json().duplicate, true, 'a redelivery is stored once')
  const stale = await post('/webhooks/calendly/created', created, { 'calendly-webhook-signature': calendlySignature(created, Math.floor(Date.now() / 1000) - 600) })
  t.equal(stale.statusCode, 401, 'a signature older than 3 minutes is refused')
})
