import t from 'tap'
import { verifyPosthogSecret } from '../../../lib/signing/posthog.ts'

const secret = 'posthog-shared-secret'

const cases: [string, string | undefined, boolean][] = [
  ['the shared secret', secret, true],
  ['a missing header', undefined, false],
  ['an empty header', '', false],
  ['a prefix of the secret', secret.slice(0, -1), false],
  ['the secret with an extra character', `${secret}x`, false],
  ['another provider\'s secret', 'gh-secret', false],
  ['the secret in another case', secret.toUpperCase(), false]
]

for (const [name, header, expected] of cases) {
  t.test(`${expected ? 'accepts' : 'rejects'} ${name}`, async (t) => {
    t.equal(verifyPosthogSecret(header, secret), expected)
  })
}
