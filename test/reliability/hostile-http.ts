// HTTP the way a hostile client writes it, for the hostile-input test: raw bytes over a socket to
// 127.0.0.1 (duplicate headers, CR/LF in header values, bodies of any size and framing that
// fetch would refuse to send), and the response read back exactly as the server wrote it.
import { connect } from 'node:net'

export interface RawResponse {
  status: number
  headers: Record<string, string[]>
  body: string
  /** Set when the server closed the connection without an answer, after reading this many body bytes of ours. */
  cutOffAt?: number
}

function parseResponse (data: Buffer): RawResponse | null {
  const end = data.indexOf('\r\n\r\n')
  if (end < 0) return null
  const [statusLine = '', ...lines] = data.subarray(0, end).toString('latin1').split('\r\n')
  const status = Number(statusLine.split(' ')[1])
  const headers: Record<string, string[]> = {}
  for (const line of lines) {
    const at = line.indexOf(':')
    const name = line.slice(0, at).trim().toLowerCase()
    headers[name] = [...(headers[name] ?? []), line.slice(at + 1).trim()]
  }
  const rest = data.subarray(end + 4)
  const length = headers['content-length']?.[0]
  if (length !== undefined) {
    if (rest.length < Number(length)) return null
    return { status, headers, body: rest.subarray(0, Number(length)).toString('utf8') }
  }
  if (headers['transfer-encoding']?.[0] === 'chunked') {
    let body = Buffer.alloc(0)
    let at = 0
    for (;;) {
      const lineEnd = rest.indexOf('\r\n', at)
      if (lineEnd < 0) return null
      const size = parseInt(rest.subarray(at, lineEnd).toString('latin1'), 16)
      if (size === 0) return { status, headers, body: body.toString('utf8') }
      if (rest.length < lineEnd + 2 + size) return null
      body = Buffer.concat([body, rest.subarray(lineEnd + 2, lineEnd + 2 + size)])
      at = lineEnd + 2 + size + 2
    }
  }
  return null // no framing: complete only when the server closes
}

/** A response without Content-Length or chunking: its body is whatever came before the close. */
function unframed (data: Buffer): RawResponse | null {
  const end = data.indexOf('\r\n\r\n')
  if (end < 0) return null
  const complete = parseResponse(Buffer.concat([data.subarray(0, end), Buffer.from('\r\ncontent-length: ' + String(data.length - end - 4) + '\r\n\r\n'), data.subarray(end + 4)]))
  return complete
}

/**
 * Sends `head` (request line and headers, without the blank line) and `body` (written in 64 KB
 * chunks, as many as the server reads before it answers; after `holdBodyMs` when set, so a server
 * that refuses on the headers alone answers before any of it), and resolves with the first
 * complete response. Rejects after `timeoutMs`: a hang is a failure of the server, not of the test.
 */
export async function rawRequest (port: number, head: string, body: Buffer = Buffer.alloc(0), options: { timeoutMs?: number, holdBodyMs?: number } = {}): Promise<RawResponse> {
  const { timeoutMs = 15_000, holdBodyMs = 0 } = options
  return await new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port })
    let received = Buffer.alloc(0)
    let done = false
    const finish = (error: Error | null, response?: RawResponse) => {
      if (done) return
      done = true
      clearTimeout(timer)
      socket.destroy()
      if (error !== null) reject(error)
      else resolve(response as RawResponse)
    }
    const timer = setTimeout(() => finish(new Error(`no complete response in ${timeoutMs} ms to ${head.split('\r\n')[0]} (got ${received.length} bytes)`)), timeoutMs)
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk])
      const response = parseResponse(received)
      if (response !== null) finish(null, response)
    })
    // After an error (the server may reset a connection still sending it a body) 'close' follows.
    socket.on('error', () => {})
    socket.on('close', () => {
      const response = parseResponse(received) ?? unframed(received)
      if (response !== null) return finish(null, response)
      // A server may stop reading an oversized body and close; the kernel then resets the
      // connection and any answer in flight is lost, wholly or (an answer larger than a few
      // packets, such as GET /metrics) from some point on. Reported, for the caller to judge.
      if (offset > 0 && offset < body.length) return finish(null, { status: 0, headers: {}, body: '', cutOffAt: offset })
      finish(new Error(`connection closed without a response to ${head.split('\r\n')[0]} (got ${JSON.stringify(received.toString('latin1').slice(0, 200))})`))
    })
    let offset = 0
    socket.on('connect', () => {
      socket.write(`${head}\r\n\r\n`, 'latin1')
      const pump = () => {
        while (offset < body.length && !done) {
          const chunk = body.subarray(offset, offset + 65_536)
          offset += chunk.length
          if (!socket.write(chunk)) return void socket.once('drain', pump)
        }
      }
      if (holdBodyMs > 0) setTimeout(pump, holdBodyMs)
      else pump()
    })
  })
}
