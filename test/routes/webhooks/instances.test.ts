// Routes change on every instance without a restart: declarations NOTIFY, every instance LISTENs.
import t from 'tap'
import { createHmac } from 'node:crypto'
import { authHeaders, buildWithDetails, envelope } from '../../helper.ts'

const first = await buildWithDetails(t)
const second = await buildWithDetails(t, {}, undefined, { databaseUrl: first.databaseUrl })
const admin = await authHeaders(first.app, ['schemas:write', 'events:read'])
const fields = { eventId: { type: 'string', required: true } }
const send = (app: typeof first.app, secret: string, body: string) =>
  app.inject({ method: 'POST', url: '/webhooks/acme/rotating', headers: { 'content-type': 'application/json', 'x-loop-signature': createHmac('sha256', secret).update(body).digest('hex') }, payload: body })

async function eventually (check: () => Promise<boolean>): Promise<boolean> {
  for (let i = 0; i < 50; i++) {
    if (await check()) return true
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  return false
}

t.test('a secret rotated through one instance is in force on the other, which had the route cached', async (t) => {
  const declared = await first.app.inject({ method: 'POST', url: '/api/events/types', headers: admin, payload: { name: 'acme.ping.v1', fields, source: 'custom', webhookPath: '/webhooks/acme/rotating', secret: 'old-secret-123' } })
  t.equal(declared.statusCode, 201)
  t.equal((await send(second.app, 'old-secret-123', '{"eventId":"a"}')).statusCode, 200, 'the second instance learned the route and cached it')
  const rotated = await first.app.inject({ method: 'POST', url: '/api/events/types', headers: admin, payload: { name: 'acme.ping.v1', source: 'custom', webhookPath: '/webhooks/acme/rotating', secret: 'new-secret-456' } })
  t.equal(rotated.statusCode, 200)
  t.ok(await eventually(async () => (await send(second.app, 'new-secret-456', '{"eventId":"b"}')).statusCode === 200), 'the new secret works there')
  const old = await send(second.app, 'old-secret-123', '{"eventId":"c"}')
  t.equal(old.statusCode, 401)
  t.match(old.json(), envelope('UNAUTHORIZED'))
})

t.test('hostile bodies get the envelope: malformed JSON, arrays, wrong content type', async (t) => {
  const bad = await send(first.app, 'new-secret-456', '{"eventId": ')
  t.equal(bad.statusCode, 400)
  t.match(bad.json(), envelope('BAD_REQUEST'))
  const array = await send(first.app, 'new-secret-456', '[1,2]')
  t.equal(array.statusCode, 400)
  const text = await first.app.inject({ method: 'POST', url: '/webhooks/acme/rotating', headers: { 'content-type': 'text/plain' }, payload: 'hi' })
  t.equal(text.statusCode, 415)
  t.match(text.json(), envelope('UNSUPPORTED_MEDIA_TYPE'))
})
