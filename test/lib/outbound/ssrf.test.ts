// Literal addresses only: nothing here touches the network or DNS.
import t from 'tap'
import { classifyAddress, destinationProblem, urlShapeProblem, type BlockedRange } from '../../../lib/outbound/ssrf.ts'

const addresses: [string, BlockedRange | null][] = [
  // IPv4
  ['0.0.0.0', 'unspecified'],
  ['0.1.2.3', 'unspecified'],
  ['10.0.0.1', 'private'],
  ['10.255.255.255', 'private'],
  ['100.63.255.255', null],
  ['100.64.0.1', 'cgnat'],
  ['100.100.100.200', 'cgnat'],
  ['100.127.255.255', 'cgnat'],
  ['100.128.0.0', null],
  ['127.0.0.1', 'loopback'],
  ['127.255.255.254', 'loopback'],
  ['169.254.0.1', 'link-local'],
  ['169.254.169.254', 'metadata'],
  ['168.63.129.16', 'metadata'],
  ['172.15.255.255', null],
  ['172.16.0.1', 'private'],
  ['172.31.255.255', 'private'],
  ['172.32.0.0', null],
  ['192.0.0.192', 'reserved'],
  ['192.0.2.10', 'documentation'],
  ['192.168.1.1', 'private'],
  ['198.18.0.1', 'reserved'],
  ['198.51.100.7', 'documentation'],
  ['203.0.113.9', 'documentation'],
  ['224.0.0.1', 'multicast'],
  ['239.255.255.250', 'multicast'],
  ['240.0.0.1', 'reserved'],
  ['255.255.255.255', 'broadcast'],
  ['1.1.1.1', null],
  ['8.8.8.8', null],
  ['93.184.215.14', null],
  // IPv6
  ['::', 'unspecified'],
  ['::1', 'loopback'],
  ['[::1]', 'loopback'],
  ['0:0:0:0:0:0:0:1', 'loopback'],
  ['::ffff:127.0.0.1', 'loopback'],
  ['::ffff:7f00:1', 'loopback'],
  ['::ffff:10.1.2.3', 'private'],
  ['::ffff:169.254.169.254', 'metadata'],
  ['::ffff:8.8.8.8', null],
  ['::127.0.0.1', 'reserved'],
  ['64:ff9b::a9fe:a9fe', 'metadata'],
  ['64:ff9b::808:808', null],
  ['2002:c0a8:0101::1', 'private'],
  ['2002:0808:0808::1', null],
  ['2001::1', 'reserved'],
  ['2001:db8::1', 'documentation'],
  ['fc00::1', 'unique-local'],
  ['fd12:3456:789a::1', 'unique-local'],
  ['fd00:ec2::254', 'metadata'],
  ['fe80::1', 'link-local'],
  ['fe80::1%eth0', 'link-local'],
  ['febf::1', 'link-local'],
  ['fec0::1', 'private'],
  ['ff02::1', 'multicast'],
  ['100::1', 'reserved'],
  ['4000::1', 'reserved'],
  ['2606:4700:4700::1111', null],
  ['2a00:1450:4001:80b::200e', null],
  ['0:0:0:0:0:ffff:7f00:1', 'loopback'],
  ['::ffff:0a01:0203', 'private'],
  // not an address at all (shorthand, octal and hex forms some parsers accept; DNS never answers them)
  ['010.0.0.1', 'reserved'],
  ['127.1', 'reserved'],
  ['0x7f.0.0.1', 'reserved'],
  ['2130706433', 'reserved'],
  ['example.com', 'reserved'],
  ['', 'reserved']
]

for (const [address, expected] of addresses) {
  t.test(`${address || '(empty)'} is ${expected ?? 'public'}`, async (t) => {
    t.equal(classifyAddress(address), expected)
  })
}

const shapes: [string, string | null][] = [
  ['https://hooks.example.com/loop', null],
  ['http://hooks.example.com:8080/loop?x=1', null],
  ['ftp://hooks.example.com/loop', 'must use http or https'],
  ['file:///etc/passwd', 'must use http or https'],
  ['javascript:alert(1)', 'must use http or https'],
  ['https://user:pass@hooks.example.com/', 'must not contain credentials'],
  ['https://token@hooks.example.com/', 'must not contain credentials'],
  ['not a url', 'must be an absolute http or https URL'],
  ['/relative/path', 'must be an absolute http or https URL']
]

for (const [url, expected] of shapes) {
  t.test(`URL shape: ${url} → ${expected ?? 'fine'}`, async (t) => {
    t.equal(urlShapeProblem(url), expected)
  })
}

// The resolver is given, so host names are tested without DNS.
const names: Record<string, string[]> = {
  'public.example': ['93.184.215.14', '2606:2800:21f:cb07:6820:80da:af6b:8b2c'],
  'mixed.example': ['93.184.215.14', '10.0.0.5'],
  'rebound.example': ['169.254.169.254']
}
const resolve = async (host: string) => {
  const found = names[host]
  if (found === undefined) throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' })
  return found
}

const destinations: [string, boolean, string | null][] = [
  ['https://public.example/hook', false, null],
  ['https://mixed.example/hook', false, '10.0.0.5 is a private address'],
  ['https://rebound.example/hook', false, '169.254.169.254 is a cloud metadata address'],
  ['https://missing.example/hook', false, 'host missing.example does not resolve'],
  ['http://127.0.0.1:3000/hook', false, '127.0.0.1 is a loopback address'],
  ['http://[::1]/hook', false, '::1 is a loopback address'],
  ['http://[fd00:ec2::254]/latest/meta-data', false, 'fd00:ec2::254 is a cloud metadata address'],
  ['http://2130706433/hook', false, '127.0.0.1 is a loopback address'], // the URL parser normalizes integer hosts
  ['http://0x7f.1/hook', false, '127.0.0.1 is a loopback address'],
  ['http://8.8.8.8/hook', false, null],
  ['http://127.0.0.1:3000/hook', true, null],
  ['ftp://127.0.0.1/hook', true, 'must use http or https']
]

for (const [url, allowPrivate, expected] of destinations) {
  t.test(`destination ${url}${allowPrivate ? ' (private allowed)' : ''} → ${expected ?? 'allowed'}`, async (t) => {
    t.equal(await destinationProblem(url, { allowPrivate, resolve }), expected)
  })
}
