// The webhook receiver for `npm run bench`'s delivery paths: answers every POST with 200 at once
// and counts them, so Loop's outbound deliveries cost Loop, not a slow receiver. GET /count says
// how many arrived; GET /arrivals?ids=a,b when each of those webhook-ids first arrived (ms since
// the epoch; the bench's clock is the same machine's). In a process of its own: in the bench's,
// autocannon would delay its answers.
import http from 'node:http'
import type { AddressInfo } from 'node:net'

let received = 0
/** First arrival of each webhook-id, kept for the most recent 10,000 ids. */
const arrivals = new Map<string, number>()
const server = http.createServer((request, response) => {
  const at = Date.now()
  request.resume()
  request.on('end', () => {
    const url = new URL(request.url ?? '/', 'http://receiver')
    if (request.method === 'GET' && url.pathname === '/count') {
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ received }))
      return
    }
    if (request.method === 'GET' && url.pathname === '/arrivals') {
      const ids = (url.searchParams.get('ids') ?? '').split(',')
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(Object.fromEntries(ids.map((id) => [id, arrivals.get(id) ?? null]))))
      return
    }
    received++
    const id = request.headers['webhook-id']
    if (typeof id === 'string' && !arrivals.has(id)) {
      arrivals.set(id, at)
      if (arrivals.size > 10_000) arrivals.delete(arrivals.keys().next().value as string)
    }
    response.writeHead(200, { 'content-type': 'text/plain' }).end('OK')
  })
})

server.listen(0, '127.0.0.1', () => {
  console.log(`bench receiver is listening on http://127.0.0.1:${(server.address() as AddressInfo).port}`)
})

process.on('SIGTERM', () => {
  server.close(() => process.exit(0))
  server.closeAllConnections()
})
