// Where Loop may send webhooks (docs/webhooks.md#destinations): never into the network it runs in. A URL is
// refused when it is not plain http(s), carries credentials, or its host is (or resolves to) an
// address that is not public: private, loopback, link-local, unique-local, CGNAT, multicast,
// unspecified, reserved or a cloud metadata service. Checked at registration and again when
// connecting, so a DNS answer that changed since registration (rebinding) is caught too.
import { lookup as dnsLookup, type LookupAddress } from 'node:dns'
import { isIP, type LookupFunction } from 'node:net'

export type BlockedRange =
  | 'unspecified' | 'loopback' | 'private' | 'link-local' | 'metadata' | 'cgnat' | 'unique-local'
  | 'multicast' | 'broadcast' | 'documentation' | 'reserved'

interface Range { family: 4 | 6, network: bigint, prefix: number, label: BlockedRange }

function parseIPv4 (text: string): bigint | null {
  const parts = text.split('.')
  if (parts.length !== 4) return null
  let value = 0n
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part) || Number(part) > 255) return null
    value = (value << 8n) | BigInt(part)
  }
  return value
}

function parseIPv6 (text: string): bigint | null {
  let address = text.replace(/^\[|\]$/g, '')
  const zone = address.indexOf('%')
  if (zone !== -1) address = address.slice(0, zone)
  if (isIP(address) !== 6) return null
  // A trailing dotted quad (::ffff:10.0.0.1) stands for the last two groups.
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(address)
  if (dotted !== null) {
    const v4 = parseIPv4(dotted[1] as string)
    if (v4 === null) return null
    address = address.slice(0, -(dotted[1] as string).length) + `${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`
  }
  const [head = '', tail] = address.split('::')
  const headGroups = head === '' ? [] : head.split(':')
  const tailGroups = tail === undefined || tail === '' ? [] : tail.split(':')
  const missing = 8 - headGroups.length - tailGroups.length
  const groups = tail === undefined ? headGroups : [...headGroups, ...Array<string>(missing).fill('0'), ...tailGroups]
  if (groups.length !== 8) return null
  return groups.reduce((acc, group) => (acc << 16n) | BigInt(`0x${group}`), 0n)
}

function range (family: 4 | 6, cidr: string, label: BlockedRange): Range {
  const [address = '', bits = ''] = cidr.split('/')
  const network = family === 4 ? parseIPv4(address) : parseIPv6(address)
  if (network === null) throw new Error(`bad range ${cidr}`)
  return { family, network, prefix: Number(bits), label }
}

// Most specific first: the first range that contains an address names it.
const ipv4Ranges: Range[] = [
  range(4, '169.254.169.254/32', 'metadata'), // AWS, GCP, Azure, OpenStack instance metadata
  range(4, '168.63.129.16/32', 'metadata'), // Azure wire server: a public-looking address inside every VNet
  range(4, '255.255.255.255/32', 'broadcast'),
  range(4, '0.0.0.0/8', 'unspecified'),
  range(4, '10.0.0.0/8', 'private'),
  range(4, '100.64.0.0/10', 'cgnat'), // also holds Alibaba's metadata at 100.100.100.200
  range(4, '127.0.0.0/8', 'loopback'),
  range(4, '169.254.0.0/16', 'link-local'),
  range(4, '172.16.0.0/12', 'private'),
  range(4, '192.0.0.0/24', 'reserved'), // IETF protocol assignments (Oracle Cloud metadata is 192.0.0.192)
  range(4, '192.0.2.0/24', 'documentation'),
  range(4, '192.88.99.0/24', 'reserved'), // 6to4 relay anycast
  range(4, '192.168.0.0/16', 'private'),
  range(4, '198.18.0.0/15', 'reserved'), // benchmarking
  range(4, '198.51.100.0/24', 'documentation'),
  range(4, '203.0.113.0/24', 'documentation'),
  range(4, '224.0.0.0/4', 'multicast'),
  range(4, '240.0.0.0/4', 'reserved')
]

const ipv6Ranges: Range[] = [
  range(6, '::/128', 'unspecified'),
  range(6, '::1/128', 'loopback'),
  range(6, 'fd00:ec2::254/128', 'metadata'), // AWS instance metadata over IPv6
  range(6, '::/96', 'reserved'), // IPv4-compatible, deprecated
  range(6, '64:ff9b:1::/48', 'reserved'), // local-use NAT64
  range(6, '100::/64', 'reserved'), // discard-only
  range(6, '2001::/23', 'reserved'), // IETF protocol assignments, Teredo included
  range(6, '2001:db8::/32', 'documentation'),
  range(6, 'fc00::/7', 'unique-local'),
  range(6, 'fe80::/10', 'link-local'),
  range(6, 'fec0::/10', 'private'), // deprecated site-local
  range(6, 'ff00::/8', 'multicast')
]

const contains = (r: Range, value: bigint, bits: number) => (value >> BigInt(bits - r.prefix)) === (r.network >> BigInt(bits - r.prefix))

function classifyIPv4 (value: bigint): BlockedRange | null {
  return ipv4Ranges.find((r) => contains(r, value, 32))?.label ?? null
}

/**
 * Why `address` (an IPv4 or IPv6 literal) must not receive webhooks, or null when it is a public
 * unicast address. IPv6 forms that carry an IPv4 address (mapped `::ffff:a.b.c.d`, NAT64
 * `64:ff9b::/96`, 6to4 `2002::/16`) are judged by that IPv4 address. Anything that is not an IP
 * literal is 'reserved': a caller must resolve names first.
 */
export function classifyAddress (address: string): BlockedRange | null {
  const v4 = parseIPv4(address)
  if (v4 !== null) return classifyIPv4(v4)
  const v6 = parseIPv6(address)
  if (v6 === null) return 'reserved'
  if (v6 >> 32n === 0xffffn) return classifyIPv4(v6 & 0xffffffffn)
  if (v6 >> 32n === 0x64ff9b0000000000000000n) return classifyIPv4(v6 & 0xffffffffn)
  if (v6 >> 112n === 0x2002n) return classifyIPv4((v6 >> 80n) & 0xffffffffn)
  const label = ipv6Ranges.find((r) => contains(r, v6, 128))?.label
  if (label !== undefined) return label
  // Only 2000::/3 is allocated for global unicast; everything else is not yet a public address.
  return v6 >> 125n === 1n ? null : 'reserved'
}

const labels: Record<BlockedRange, string> = {
  unspecified: 'an unspecified address',
  loopback: 'a loopback address',
  private: 'a private address',
  'link-local': 'a link-local address',
  metadata: 'a cloud metadata address',
  cgnat: 'a carrier-grade NAT address',
  'unique-local': 'a unique-local address',
  multicast: 'a multicast address',
  broadcast: 'the broadcast address',
  documentation: 'a documentation address',
  reserved: 'a reserved address'
}

/** The hostname of a URL without IPv6 brackets. */
export function urlHost (url: URL): string {
  return url.hostname.replace(/^\[|\]$/g, '')
}

/** Why `text` cannot be a webhook URL whatever it resolves to (scheme, credentials), or null. */
export function urlShapeProblem (text: string): string | null {
  let url: URL
  try {
    url = new URL(text)
  } catch {
    return 'must be an absolute http or https URL'
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'must use http or https'
  // Credentials in a URL end up in logs and Referer-like places; the signature authenticates Loop.
  if (url.username !== '' || url.password !== '') return 'must not contain credentials'
  if (urlHost(url) === '') return 'must have a host'
  return null
}

export class BlockedDestinationError extends Error {
  readonly code = 'ELOOPBLOCKED'
  constructor (readonly address: string, readonly reason: BlockedRange) {
    super(`${address} is ${labels[reason]}`)
    this.name = 'BlockedDestinationError'
  }
}

/** Throws BlockedDestinationError when any of the addresses is not public. */
export function assertPublicAddresses (addresses: readonly string[]): void {
  for (const address of addresses) {
    const reason = classifyAddress(address)
    if (reason !== null) throw new BlockedDestinationError(address, reason)
  }
}

export type ResolveAll = (host: string) => Promise<string[]>

export const resolveAll: ResolveAll = async (host) => await new Promise((resolve, reject) => {
  dnsLookup(host, { all: true, verbatim: true }, (error, addresses) => {
    if (error !== null) reject(error)
    else resolve(addresses.map((a) => a.address))
  })
})

/**
 * Why Loop must not send to `text`, or null when it may. With `allowPrivate` only the URL's shape
 * is checked (no DNS); otherwise every address the host resolves to must be public. A name that
 * does not resolve is refused too: there is nothing to check it against.
 */
export async function destinationProblem (text: string, options: { allowPrivate: boolean, resolve?: ResolveAll }): Promise<string | null> {
  const shape = urlShapeProblem(text)
  if (shape !== null || options.allowPrivate) return shape
  const host = urlHost(new URL(text))
  try {
    assertPublicAddresses(isIP(host) !== 0 ? [host] : await (options.resolve ?? resolveAll)(host))
    return null
  } catch (error) {
    if (error instanceof BlockedDestinationError) return error.message
    return `host ${host} does not resolve`
  }
}

/**
 * A `lookup` for http.request that refuses, at connect time, any host resolving to an address
 * that is not public: the address checked is the address connected to, so a DNS answer changed
 * after registration cannot point a delivery inside the network.
 */
export const publicOnlyLookup: LookupFunction = (hostname, options, callback) => {
  dnsLookup(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
    if (error !== null) return callback(error, '', 0)
    try {
      assertPublicAddresses(addresses.map((a) => a.address))
    } catch (blocked) {
      return callback(blocked as BlockedDestinationError, '', 0)
    }
    const first = addresses[0]
    if (options.all === true) return callback(null, addresses)
    if (first === undefined) return callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), '', 0)
    callback(null, first.address, first.family)
  })
}
