import t from 'tap'
import { customHeaderIssues, headerNameProblem, headerNames, patchHeaders } from '../../../lib/outbound/custom-headers.ts'

const names: [string, RegExp | null][] = [
  ['X-Api-Key', null],
  ['Authorization', null],
  ['x-tenant', null],
  ['X-Loop-Event', /^X-Loop-Event is set by Loop/],
  ['x-loop-signature', /is set by Loop/],
  ['X-Loop-Anything-Else', /is set by Loop/],
  ['webhook-id', /is set by Loop/],
  ['Webhook-Signature', /is set by Loop/],
  ['Content-Type', /is set by Loop/],
  ['content-length', /is set by Loop/],
  ['Content-Encoding', /is set by Loop/],
  ['User-Agent', /is set by Loop/],
  ['Host', /^Host is a hop-by-hop or connection header/],
  ['Connection', /hop-by-hop/],
  ['Keep-Alive', /hop-by-hop/],
  ['Transfer-Encoding', /hop-by-hop/],
  ['TE', /hop-by-hop/],
  ['Trailer', /hop-by-hop/],
  ['Upgrade', /hop-by-hop/],
  ['Expect', /hop-by-hop/],
  ['Proxy-Authorization', /hop-by-hop/],
  ['proxy-connection', /hop-by-hop/],
  ['X Api Key', /is not a valid header name/],
  ['X-Api-Key:', /is not a valid header name/],
  ['Ключ', /is not a valid header name/],
  ['', /is not a valid header name/],
  ['x'.repeat(101), /is not a valid header name/],
  ['x'.repeat(100), null]
]
for (const [name, expected] of names) {
  t.test(`${JSON.stringify(name.slice(0, 30))} ${expected === null ? 'may be set' : 'is refused'}`, async (t) => {
    const problem = headerNameProblem(name)
    if (expected === null) t.equal(problem, null)
    else t.match(problem, expected)
  })
}

t.test('a set of headers: every refused name is an issue at headers.<name>, so are case-insensitive repeats and more than 20', async (t) => {
  t.same(customHeaderIssues({ 'X-Api-Key': 'k', 'X-Tenant': 't' }), [])
  t.same(customHeaderIssues({}), [])
  t.same(customHeaderIssues({ 'X-Api-Key': 'k', Host: 'evil.example', 'X-Loop-Event': 'x' }).map((i) => i.path), ['headers.Host', 'headers.X-Loop-Event'])
  t.match(customHeaderIssues({ 'X-Api-Key': 'a', 'x-api-key': 'b' }), [{ path: 'headers.x-api-key', code: 'custom', message: /given twice \(as X-Api-Key too\)/ }])
  const many = Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`X-H${i}`, 'v']))
  t.match(customHeaderIssues(many), [{ path: 'headers', message: 'at most 20 custom headers' }])
  t.same(customHeaderIssues(Object.fromEntries(Object.entries(many).slice(1))), [], '20 is fine')
})

t.test('issues never carry a value', async (t) => {
  const issues = customHeaderIssues({ Host: 'secret-value-1', 'x-loop-x': 'secret-value-2', 'bad name': 'secret-value-3' })
  t.equal(issues.length, 3)
  t.notOk(JSON.stringify(issues).includes('secret-value'))
})

t.test('a PATCH sets and removes headers by name, in any case, and keeps the others', async (t) => {
  const current = { 'X-Api-Key': 'old', 'X-Tenant': 't1' }
  t.same(patchHeaders(current, { 'x-api-key': 'new' }), { headers: { 'X-Tenant': 't1', 'x-api-key': 'new' }, issues: [] }, 'replaced under the new spelling')
  t.same(patchHeaders(current, { 'X-TENANT': null }), { headers: { 'X-Api-Key': 'old' }, issues: [] }, 'removed')
  t.same(patchHeaders(current, { 'X-Other': 'o' }).headers, { 'X-Api-Key': 'old', 'X-Tenant': 't1', 'X-Other': 'o' }, 'added')
  t.same(patchHeaders(current, { 'X-Never-Set': null }), { headers: current, issues: [] }, 'removing an absent one changes nothing')
  t.same(patchHeaders(current, { Host: null }).issues, [], 'removing a refused name is no issue: it cannot be there')
  t.match(patchHeaders(current, { Connection: 'close' }).issues, [{ path: 'headers.Connection' }])
  t.match(patchHeaders(current, { 'X-A': '1', 'x-a': '2' }).issues, [{ path: 'headers.x-a', message: /given twice/ }])
  const full = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`X-H${i}`, 'v']))
  t.match(patchHeaders(full, { 'X-One-More': 'v' }).issues, [{ path: 'headers', message: 'at most 20 custom headers' }])
  t.same(patchHeaders(full, { 'x-h0': 'w' }).issues, [], 'replacing one keeps 20')
})

t.test('the API shows the names only, sorted without regard to case', async (t) => {
  t.same(headerNames({ 'x-tenant': 'a', 'X-Api-Key': 'b', Authorization: 'c' }), ['Authorization', 'X-Api-Key', 'x-tenant'])
  t.same(headerNames(null), [])
})

t.test('a header named __proto__ is a header like any other, not a prototype', async (t) => {
  const patch = JSON.parse('{"__proto__": "v", "X-A": "1"}') as Record<string, string>
  const { headers } = patchHeaders({}, patch)
  t.same(Object.keys(headers), ['__proto__', 'X-A'])
  t.equal(Object.getPrototypeOf(headers), Object.prototype)
})
