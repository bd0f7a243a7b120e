import t from 'tap'
import { createHmac } from 'node:crypto'
import { verifySentrySignature } from '../../../lib/signing/sentry.ts'

const secret = 'sentry-secret'
const hmac = (body: string) => createHmac('sha256', secret).update(body).digest('hex')

// As Sentry (Python json.dumps, compact separators) sends it: non-ASCII escaped, 1.0 kept.
const sentBytes = '{"action":"created","data":{"issue":{"title":"Caf\\u00e9 crashed","count":"3","score":1.0}}}'
const canonical = JSON.stringify(JSON.parse(sentBytes))

t.test('the raw form and the canonical form really differ for this payload', async (t) => {
  t.not(sentBytes, canonical)
})

const cases: [string, string, string | undefined, boolean][] = [
  ['the HMAC of the raw bytes Sentry sent', sentBytes, hmac(sentBytes), true],
  ['the HMAC of JSON.stringify(JSON.parse(body)), as Sentry documents (docs/signals.md#sentry)', sentBytes, hmac(canonical), true],
  ['a signature with surrounding whitespace', sentBytes, ` ${hmac(sentBytes)} `, true],
  ['a missing header', sentBytes, undefined, false],
  ['an empty header', sentBytes, '', false],
  ['a signature made with the GitHub secret', sentBytes, createHmac('sha256', 'gh-secret').update(sentBytes).digest('hex'), false],
  ['a GitHub-style sha256= prefix', sentBytes, `sha256=${hmac(sentBytes)}`, false],
  ['a signature of another body', sentBytes, hmac('{"action":"resolved"}'), false],
  ['an empty body signed with the secret (not JSON, no canonical form)', '', hmac(''), true],
  ['an empty body with a wrong signature', '', hmac('x'), false],
  ['a body that is not JSON with a wrong signature', '{oops', hmac('{}'), false]
]

for (const [name, body, header, expected] of cases) {
  t.test(`${expected ? 'accepts' : 'rejects'} ${name}`, async (t) => {
    t.equal(verifySentrySignature(Buffer.from(body), header, secret), expected)
  })
}
