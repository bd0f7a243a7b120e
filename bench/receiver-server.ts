// The webhook receiver for `npm run bench`'s subscribed path: answers every POST with 200 at once
// and counts them, so Loop's outbound deliveries cost Loop, not a slow receiver. GET /count says
// how many arrived. In a process of its own: in the bench's, autocannon would delay its answers.
import http from 'node:http'
import type { AddressInfo } from 'node:net'

let received = 0
const server = http.createServer((request, response) => {
  request.resume()
  request.on('end', () => {
    if (request.method === 'GET' && request.url === '/count') {
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ received }))
      return
    }
    received++
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
