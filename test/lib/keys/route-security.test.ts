import t from 'tap'
import { bearerRequirement } from '../../../lib/keys/route-security.ts'

t.test('a route security declaration becomes scope alternatives', async (t) => {
  t.equal(bearerRequirement(undefined), null, 'no security: public')
  t.equal(bearerRequirement([]), null, 'empty security: public')
  t.same(bearerRequirement([{ bearer: ['issues:read'] }]), { alternatives: [['issues:read']], anonymous: false })
  t.same(bearerRequirement([{ bearer: [] }]), { alternatives: [[]], anonymous: false }, 'any valid key')
  t.same(bearerRequirement([{ bearer: ['issues:read', 'signals:read'] }, { bearer: ['admin'] }]), { alternatives: [['issues:read', 'signals:read'], ['admin']], anonymous: false })
  t.same(bearerRequirement([{}, { bearer: [] }]), { alternatives: [[]], anonymous: true }, 'a key is optional, and checked when sent')
  t.equal(bearerRequirement([{}]), null, 'only {}: public')
})

t.test('a provider receiver\'s signature scheme takes no key: the route verifies it itself', async (t) => {
  t.equal(bearerRequirement([{ githubSignature: [] }]), null)
  t.equal(bearerRequirement([{ shopifySignature: [] }, { standardWebhooksSignature: [] }, { loopSignature: [] }]), null, 'any of several signatures')
  t.throws(() => bearerRequirement([{ githubSignature: [] }, { bearer: ['admin'] }]), /a bearer key or a receiver signature, not either/)
  t.throws(() => bearerRequirement([{ githubSignature: [], bearer: [] }]), /unsupported security requirement/, 'a key and a signature together')
  t.throws(() => bearerRequirement([{ githubSignatur: [] }]), /unsupported security requirement/, 'a misspelt scheme')
})

t.test('what Loop cannot enforce fails at start-up instead of leaving a route open', async (t) => {
  t.throws(() => bearerRequirement([{ bearer: ['issues:reed'] }]), /unknown scope "issues:reed"/)
  t.throws(() => bearerRequirement([{ apiKey: [] }]), /unsupported security requirement/)
  t.throws(() => bearerRequirement([[]]), /unsupported security requirement/)
  t.throws(() => bearerRequirement([{ bearer: 'admin' }]), /must be an array/)
  t.throws(() => bearerRequirement({ bearer: ['admin'] }), /must be an array/)
})
