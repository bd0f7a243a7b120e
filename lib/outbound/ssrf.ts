// Where Loop may send webhooks (docs/webhooks.md#destinations): never into the network it runs in. A URL is
// refused when it is not plain http(s), carries credentials, or its host is (or resolves to) an
// address that is not public: private, loopback, link-local, unique-local, CGNAT, multicast,
// unspecified, reserved or a cloud metadata service. Checked at registration and again when
// connecting, so a DNS answer that changed since registration (rebinding) is caught too.
import { lookup as dnsLookup, type LookupAddress } from 'node:dns'
import { isIP, type LookupFunction } from 'node:net'
import ipaddr from 'ipaddr.js'

export type BlockedRange =
  | 'unspecified' | 'loopback' | 'private' | 'link-local' | 'metadata' | 'cgnat' | 'unique-local'
  | 'multicast' | 'broadcast' | 'documentation' | 'reserved'

interface Range<A> { cidr: [A, number], label: BlockedRange }

const v4 = (cidr: string, label: BlockedRange): Range<ipaddr.IPv4> => ({ cidr: ipaddr.IPv4.parseCIDR(cidr), label })
const v6 = (cidr: string, label: BlockedRange): Range<ipaddr.IPv6> => ({ cidr: ipaddr.IPv6.parseCIDR(cidr), label })

// Most specific first: the first range that contains an address names it.
const ipv4Ranges: Range<ipaddr.IPv4>[] = [
  v4('169.254.169.254/32', 'metadata'), // AWS, GCP, Azure, OpenStack instance metadata
  v4('168.63.129.16/32', 'metadata'), // Azure wire server: a public-looking address inside every VNet
  v4('255.255.255.255/32', 'broadcast'),
  v4('0.0.0.0/8', 'unspecified'),
  v4('10.0.0.0/8', 'private'),
  v4('100.64.0.0/10', 'cgnat'), // also holds Alibaba's metadata at 100.100.100.200
  v4('127.0.0.0/8', 'loopback'),
  v4('169.254.0.0/16', 'link-local'),
  v4('172.16.0.0/12', 'private'),
  v4('192.0.0.0/24', 'reserved'), // IETF protocol assignments (Oracle Cloud metadata is 192.0.0.192)
  v4('192.0.2.0/24', 'documentation'),
  v4('192.88.99.0/24', 'reserved'), // 6to4 relay anycast
  v4('192.168.0.0/16', 'private'),
  v4('198.18.0.0/15', 'reserved'), // benchmarking
  v4('198.51.100.0/24', 'documentation'),
  v4('203.0.113.0/24', 'documentation'),
  v4('224.0.0.0/4', 'multicast'),
  v4('240.0.0.0/4', 'reserved')
]

const ipv6Ranges: Range<ipaddr.IPv6>[] = [
  v6('::/128', 'unspecified'),
  v6('::1/128', 'loopback'),
  v6('fd00:ec2::254/128', 'metadata'), // AWS instance metadata over IPv6
  v6('::/96', 'reserved'), // IPv4-compatible, deprecated
  v6('64:ff9b:1::/48', 'reserved'), // local-use NAT64
  v6('100::/64', 'reserved'), // discard-only
  v6('2001::/23', 'reserved'), // IETF protocol assignments, Teredo included
  v6('2001:db8::/32', 'documentation'),
  v6('fc00::/7', 'unique-local'),
  v6('fe80::/10', 'link-local'),
  v6('fec0::/10', 'private'), // deprecated site-local
  v6('ff00::/8', 'multicast')
]

// IPv6 forms that carry an IPv4 address in known bits, judged by that address.
const nat64 = ipaddr.IPv6.parseCIDR('64:ff9b::/96')
const sixToFour = ipaddr.IPv6.parseCIDR('2002::/16')
// Only 2000::/3 is allocated for global unicast; everything else is not yet a public address.
const globalUnicast = ipaddr.IPv6.parseCIDR('2000::/3')

const labelIn = <A extends ipaddr.IPv4 | ipaddr.IPv6>(address: A, ranges: readonly Range<A>[]): BlockedRange | null =>
  ranges.find((r) => address.match(r.cidr))?.label ?? null

/** The IPv4 address held in 16-bit groups `high` and `high + 1` of an IPv6 address. */
const ipv4From = (parts: number[], high: number) => new ipaddr.IPv4([(parts[high] ?? 0) >> 8, (parts[high] ?? 0) & 0xff, (parts[high + 1] ?? 0) >> 8, (parts[high + 1] ?? 0) & 0xff])

/**
 * Why `address` (an IPv4 or IPv6 literal) must not receive webhooks, or null when it is a public
 * unicast address. IPv6 forms that carry an IPv4 address (mapped `::ffff:a.b.c.d`, NAT64
 * `64:ff9b::/96`, 6to4 `2002::/16`) are judged by that IPv4 address. Anything that is not an IP
 * literal is 'reserved': a caller must resolve names first. IPv4 is the four-part decimal form
 * only (as DNS answers it); the shorthand and octal forms some parsers accept are not addresses here.
 */
export function classifyAddress (address: string): BlockedRange | null {
  if (ipaddr.IPv4.isValidFourPartDecimal(address)) return labelIn(ipaddr.IPv4.parse(address), ipv4Ranges)
  const bare = address.replace(/^\[|\]$/g, '').replace(/%.*$/, '')
  if (isIP(bare) !== 6) return 'reserved'
  // ipaddr.js reads `::a.b.c.d` as the mapped `::ffff:a.b.c.d`; it is the deprecated
  // IPv4-compatible form (::/96), reserved like the rest of that range.
  if (/^::\d+\.\d+\.\d+\.\d+$/.test(bare)) return 'reserved'
  const six = ipaddr.IPv6.parse(bare)
  if (six.isIPv4MappedAddress()) return labelIn(six.toIPv4Address(), ipv4Ranges)
  if (six.match(nat64)) return labelIn(ipv4From(six.parts, 6), ipv4Ranges)
  if (six.match(sixToFour)) return labelIn(ipv4From(six.parts, 1), ipv4Ranges)
  const label = labelIn(six, ipv6Ranges)
  if (label !== null) return label
  return six.match(globalUnicast) ? null : 'reserved'
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
