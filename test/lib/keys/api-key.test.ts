import t from 'tap'
import { createHash } from 'node:crypto'
import { bearerToken, generateApiKey, grantsScopes, hashApiKey, parseApiKey, randomBase62, visiblePrefix } from '../../../lib/keys/api-key.ts'

t.test('generated keys are lk_<env>_ and 40 base62 characters, with a hash and a short prefix', async (t) => {
  for (const env of ['live', 'test', 'dev'] as const) {
    const key = generateApiKey(env)
    t.match(key.secret, new RegExp(`^lk_${env}_[0-9A-Za-z]{40}$`))
    t.equal(key.hash, createHash('sha256').update(key.secret).digest('hex'))
    t.equal(key.prefix, key.secret.slice(0, `lk_${env}_`.length + 4))
    t.equal(parseApiKey(key.secret), env)
  }
  const many = new Set(Array.from({ length: 1000 }, () => generateApiKey('live').secret))
  t.equal(many.size, 1000, 'no repeats')
})

t.test('bytes 248-255 are rejected, so no base62 symbol is favoured', async (t) => {
  // A scripted byte source: the rejected bytes would otherwise map onto '0'..'7'.
  const scripted = [248, 249, 250, 251, 252, 253, 254, 255, 0, 61, 62, 247]
  let at = 0
  const source = (size: number) => Buffer.from(Array.from({ length: size }, () => scripted[at++ % scripted.length] as number))
  t.equal(randomBase62(4, source), '0z0z', '0→0, 61→z, 62→0, 247→z; 248..255 skipped')

  const counts = new Map<string, number>()
  const text = randomBase62(62 * 2000)
  for (const c of text) counts.set(c, (counts.get(c) ?? 0) + 1)
  t.equal(counts.size, 62)
  // Each symbol expects 2000; with bias the first 8 would get ~2250. 5 sigma is about ±220.
  for (const [symbol, count] of counts) t.ok(count > 1780 && count < 2220, `${symbol}: ${count}`)
})

t.test('parseApiKey accepts only well-formed Loop keys', async (t) => {
  const cases: [string, string | null][] = [
    ['lk_live_' + 'a'.repeat(32), 'live'],
    ['lk_test_' + 'Z9'.repeat(20), 'test'],
    ['lk_dev_' + 'x'.repeat(40), 'dev'],
    ['lk_live_' + 'a'.repeat(31), null],
    ['lk_prod_' + 'a'.repeat(40), null],
    ['sk_live_' + 'a'.repeat(40), null],
    ['lk_live_' + 'a'.repeat(39) + '-', null],
    ['lk_live_' + 'a'.repeat(257), null],
    [' lk_live_' + 'a'.repeat(40), null],
    ['', null]
  ]
  for (const [text, env] of cases) t.equal(parseApiKey(text), env, JSON.stringify(text.slice(0, 20)))
})

t.test('hashApiKey is SHA-256 hex and visiblePrefix keeps 4 random characters', async (t) => {
  t.equal(hashApiKey('abc'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad')
  t.equal(visiblePrefix('lk_dev_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789'), 'lk_dev_AbCd')
  t.throws(() => visiblePrefix('nope'))
})

t.test('admin grants every scope; otherwise every required scope must be held', async (t) => {
  const cases: [string[], string[], boolean][] = [
    [['admin'], ['issues:write'], true],
    [['admin'], [], true],
    [['issues:read'], ['issues:read'], true],
    [['issues:read'], ['issues:write'], false],
    [['issues:read', 'issues:write'], ['issues:read', 'issues:write'], true],
    [['issues:read'], ['issues:read', 'issues:write'], false],
    [[], [], true],
    [[], ['signals:read'], false]
  ]
  for (const [held, required, expected] of cases) t.equal(grantsScopes(held, required), expected, `${held.join(',')} for ${required.join(',')}`)
})

t.test('bearerToken reads "Bearer <key>" and nothing else', async (t) => {
  const cases: [string | undefined, string | null][] = [
    ['Bearer lk_live_x', 'lk_live_x'],
    ['bearer lk_live_x', 'lk_live_x'],
    ['Bearer   lk_live_x ', 'lk_live_x'],
    ['Basic dXNlcjpwYXNz', null],
    ['Bearer', null],
    ['Bearer a b', null],
    ['lk_live_x', null],
    [undefined, null]
  ]
  for (const [header, token] of cases) t.equal(bearerToken(header), token, String(header))
})
