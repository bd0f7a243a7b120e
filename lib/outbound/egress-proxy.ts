// Static-IP egress (docs/webhooks.md#egress-proxy): with LOOP_EGRESS_PROXY every delivery leaves
// through an HTTP proxy, in a CONNECT tunnel, so receivers see the proxy's addresses. The SSRF
// guard still decides where a delivery may go: the destination is resolved and checked here,
// before the proxy is asked, and the proxy is asked for that checked address (never the name,
// which it would resolve again, perhaps to an address inside its own network). TLS runs inside
// the tunnel, end to end with the receiver, its certificate checked against the URL's host name.
import http from 'node:http'
import https from 'node:https'
import type { Duplex } from 'node:stream'
import tls from 'node:tls'
import { lookup } from 'node:dns/promises'
import { isIP, type Socket } from 'node:net'
import { assertPublicAddresses } from './ssrf.ts'

export interface EgressProxyOptions {
  allowPrivateUrls: boolean
  /** How long the proxy may take to open a tunnel (the attempt's own timeout covers the rest). */
  connectTimeoutMs: number
  /** TLS settings for the receivers' side (a test's own CA); Node's defaults otherwise. */
  tls?: https.AgentOptions
}

/** The address the proxy is asked for: the host resolved here, every address checked unless private URLs are allowed. */
async function checkedAddress (host: string, allowPrivateUrls: boolean): Promise<string> {
  const bare = host.replace(/^\[|\]$/g, '')
  const addresses = isIP(bare) !== 0 ? [bare] : (await lookup(bare, { all: true, verbatim: true })).map((a) => a.address)
  if (!allowPrivateUrls) assertPublicAddresses(addresses)
  // IPv4 first: an egress proxy without IPv6 is common, one without IPv4 is not.
  const chosen = addresses.find((a) => isIP(a) === 4) ?? addresses[0]
  if (chosen === undefined) throw Object.assign(new Error(`${host} has no address`), { code: 'ENOTFOUND' })
  return chosen
}

/** The `Proxy-Authorization` a proxy URL's credentials stand for; none without them. */
function proxyHeaders (proxy: URL): Record<string, string> {
  if (proxy.username === '' && proxy.password === '') return {}
  const credentials = `${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`
  return { 'proxy-authorization': `Basic ${Buffer.from(credentials).toString('base64')}` }
}

export class EgressProxyError extends Error {
  readonly code = 'ELOOPPROXY'
  constructor (message: string) {
    super(message)
    this.name = 'EgressProxyError'
  }
}

/** A socket tunnelled through the proxy to `host:port`, once the destination passed the guard. */
export async function openTunnel (proxy: URL, host: string, port: number, options: EgressProxyOptions): Promise<Socket> {
  const address = await checkedAddress(host, options.allowPrivateUrls)
  const target = `${isIP(address) === 6 ? `[${address}]` : address}:${port}`
  return await new Promise<Socket>((resolve, reject) => {
    const request = http.request({
      host: proxy.hostname.replace(/^\[|\]$/g, ''),
      port: Number(proxy.port),
      method: 'CONNECT',
      path: target,
      headers: { host: target, ...proxyHeaders(proxy) },
      agent: false,
      signal: AbortSignal.timeout(options.connectTimeoutMs)
    })
    request.once('connect', (response, socket, head) => {
      if (response.statusCode !== 200) {
        socket.destroy()
        return reject(new EgressProxyError(`egress proxy answered ${response.statusCode ?? 'nothing'} to CONNECT ${target}`))
      }
      if (head.length > 0) socket.unshift(head)
      resolve(socket)
    })
    request.once('error', (error) => {
      const timedOut = error.name === 'AbortError' || error.name === 'TimeoutError'
      reject(timedOut ? new EgressProxyError(`egress proxy opened no tunnel in ${options.connectTimeoutMs} ms`) : new EgressProxyError(`egress proxy unreachable: ${(error as NodeJS.ErrnoException).code ?? error.message}`))
    })
    request.end()
  })
}

type Callback = (error: Error | null, stream: Duplex) => void

const portOf = (options: http.ClientRequestArgs, fallback: number) => Number(options.port ?? fallback)

/** Keep-alive agents whose sockets are tunnels through `proxy`: the worker's agents when LOOP_EGRESS_PROXY is set. */
export function egressProxyAgents (proxy: URL, options: EgressProxyOptions): { http: http.Agent, https: https.Agent } {
  class TunnelAgent extends http.Agent {
    override createConnection (args: http.ClientRequestArgs, callback?: Callback): Duplex | null | undefined {
      openTunnel(proxy, args.host ?? '', portOf(args, 80), options).then((socket) => callback?.(null, socket), (error: Error) => callback?.(error, undefined as unknown as Duplex))
      return undefined
    }
  }
  class TlsTunnelAgent extends https.Agent {
    override createConnection (args: http.ClientRequestArgs, callback?: Callback): Duplex | null | undefined {
      openTunnel(proxy, args.host ?? '', portOf(args, 443), options).then((socket) => {
        // https.Agent put the servername (SNI, and the name the certificate must carry) in args.
        callback?.(null, tls.connect({ ...(args as tls.ConnectionOptions), socket }))
      }, (error: Error) => callback?.(error, undefined as unknown as Duplex))
      return undefined
    }
  }
  return { http: new TunnelAgent({ keepAlive: true }), https: new TlsTunnelAgent({ keepAlive: true, ...options.tls }) }
}
