// A receiver for Loop's outbound webhooks in Express (docs/webhooks.md): it checks
// `X-Loop-Signature`, the hex HMAC-SHA256 of the exact body bytes keyed with the endpoint's secret,
// before it parses anything, and answers 401 when the signature does not match.
//
//   WEBHOOK_SECRET=whsec_... PORT=4000 node --import tsx examples/receivers/express/server.ts
//
// Register it with `POST /api/webhooks {"url": "http://<host>:4000/webhooks/loop", "events": [...]}`
// and put the `secret` that answer returns (once) in WEBHOOK_SECRET.
import express from 'express'
import { createHmac, timingSafeEqual } from 'node:crypto'

const secret = process.env.WEBHOOK_SECRET ?? ''
if (secret === '') {
  console.error('WEBHOOK_SECRET is required: the whsec_... secret Loop returned when the endpoint was created')
  process.exit(1)
}

/** Whether `header` is the hex HMAC-SHA256 of `body` under `key`, compared in constant time. */
function signedWith (key: string, body: Buffer, header: string | undefined): boolean {
  const expected = createHmac('sha256', key).update(body).digest()
  const given = Buffer.from(header ?? '', 'hex')
  return given.length === expected.length && timingSafeEqual(given, expected)
}

interface LoopEvent { id: string, type: string, createdAt: string, data: unknown }

const app = express()

// express.raw keeps the bytes Loop signed; a JSON parser would re-serialise them differently.
app.post('/webhooks/loop', express.raw({ type: 'application/json', limit: '2mb' }), (req, res) => {
  const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0)
  // While Loop rotates the secret, X-Loop-Signature uses the new one and X-Loop-Signature-Previous
  // the old, so this receiver keeps working on either secret until you switch WEBHOOK_SECRET.
  if (!signedWith(secret, body, req.get('x-loop-signature')) && !signedWith(secret, body, req.get('x-loop-signature-previous'))) {
    res.status(401).send('Invalid signature')
    return
  }
  const event = JSON.parse(body.toString('utf8')) as LoopEvent
  switch (event.type) {
    case 'lead.captured.v1':
      // Handle a new lead: event.data is the event's payload.
      break
    case 'issue.created':
      // Handle a new issue.
      break
  }
  console.log(`received ${event.type} ${event.id} (delivery ${req.get('x-loop-delivery') ?? '?'})`)
  // Answer 2xx quickly; do slow work after answering (Loop times out after the endpoint's timeoutMs).
  res.status(200).send('OK')
})

const server = app.listen(Number(process.env.PORT ?? 4000), process.env.HOST ?? '127.0.0.1', () => {
  const address = server.address()
  if (address !== null && typeof address === 'object') console.log(`listening on http://${address.address}:${address.port}/webhooks/loop`)
})
process.on('SIGTERM', () => server.close())
