import t from 'tap'
import { createHmac } from 'node:crypto'
import { signGithubPayload, verifyGithubSignature } from '../../../lib/signing/github.ts'

const secret = 'It\'s a Secret to Everybody'
// GitHub's documented test vector: https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries
const documentedBody = Buffer.from('Hello, World!')
const documentedSignature = 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17'

t.test('the documented GitHub test vector verifies', async (t) => {
  t.equal(signGithubPayload(documentedBody, secret), documentedSignature)
  t.ok(verifyGithubSignature(documentedBody, documentedSignature, secret))
})

const raw = Buffer.from('{"zen":"Design for failure.","hook_id":1}')
const good = `sha256=${createHmac('sha256', 'gh-secret').update(raw).digest('hex')}`

const cases: [string, Buffer, string | undefined, string, boolean][] = [
  ['the HMAC of the raw bytes', raw, good, 'gh-secret', true],
  ['upper-case hex', raw, `sha256=${good.slice(7).toUpperCase()}`, 'gh-secret', true],
  ['a missing header', raw, undefined, 'gh-secret', false],
  ['an empty header', raw, '', 'gh-secret', false],
  ['no sha256= prefix', raw, good.slice(7), 'gh-secret', false],
  ['the legacy sha1= scheme', raw, `sha1=${createHmac('sha1', 'gh-secret').update(raw).digest('hex')}`, 'gh-secret', false],
  ['another secret', raw, good, 'sentry-secret', false],
  ['a body changed by one byte', Buffer.from(raw.toString().replace('1', '2')), good, 'gh-secret', false],
  ['a truncated digest', raw, good.slice(0, -2), 'gh-secret', false],
  ['a digest with a trailing non-hex character', raw, `${good}z`, 'gh-secret', false],
  ['non-hex characters of the right length', raw, `sha256=${'zz'.repeat(32)}`, 'gh-secret', false]
]

for (const [name, body, header, key, expected] of cases) {
  t.test(`${expected ? 'accepts' : 'rejects'} ${name}`, async (t) => {
    t.equal(verifyGithubSignature(body, header, key), expected)
  })
}
