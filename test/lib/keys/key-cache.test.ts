import t from 'tap'
import { KeyCache, type CachedKey } from '../../../lib/keys/key-cache.ts'

const key = (keyId: string, revokedAt: Date | null = null): CachedKey => ({
  keyId, name: keyId, env: 'live', scopes: ['events:read'], tier: 'standard', brandId: null, prefix: 'lk_live_Abcd', lastUsedAt: null, revokedAt
})

/** A loader that counts its reads and answers `value`. */
function loader (value: CachedKey | null) {
  const counted = { reads: 0, load: async () => { counted.reads++; return value } }
  return counted
}

const listening = () => { const cache = new KeyCache(); cache.resume(); return cache }

t.test('a found key is read once, then served from memory, frozen', async (t) => {
  const cache = listening()
  const source = loader(key('a'))
  const first = await cache.get('hash-a', source.load)
  const second = await cache.get('hash-a', source.load)
  t.equal(source.reads, 1)
  t.equal(second, first, 'the same entry')
  t.ok(Object.isFrozen(second) && Object.isFrozen(second?.scopes), 'shared between requests, so nobody may change it')
})

t.test('an unknown key is read every time', async (t) => {
  const cache = listening()
  const source = loader(null)
  for (let i = 0; i < 3; i++) t.equal(await cache.get('nope', source.load), null)
  t.equal(source.reads, 3)
})

t.test('forget drops the key by id; its next use reads again', async (t) => {
  const cache = listening()
  await cache.get('hash-a', loader(key('a')).load)
  await cache.get('hash-b', loader(key('b')).load)
  cache.forget('a')
  t.equal(cache.size, 1, 'only the key that changed')
  const revoked = loader(key('a', new Date()))
  t.not((await cache.get('hash-a', revoked.load))?.revokedAt, null)
  t.equal(revoked.reads, 1)
})

t.test('a read that a change overtook is not kept (read, then the revocation is announced)', async (t) => {
  const cache = listening()
  let release = () => {}
  const gate = new Promise<void>((resolve) => { release = resolve })
  const reading = cache.get('hash-a', async () => { await gate; return key('a') })
  cache.forget('a')
  release()
  t.not(await reading, null, 'the request itself is answered with what it read')
  t.equal(cache.size, 0, 'but the possibly stale row is not kept')
})

t.test('nothing is kept before listening starts or while it is lost; resuming starts afresh', async (t) => {
  const cache = new KeyCache()
  const source = loader(key('a'))
  await cache.get('hash-a', source.load)
  t.equal(cache.size, 0, 'not listening yet')
  cache.resume()
  await cache.get('hash-a', source.load)
  t.equal(cache.size, 1)
  cache.suspend()
  t.equal(cache.size, 0, 'cleared when the connection drops')
  await cache.get('hash-a', source.load)
  t.equal(cache.size, 0, 'and nothing kept until it listens again')
  cache.resume()
  await cache.get('hash-a', source.load)
  t.equal(cache.size, 1)
})

t.test('bounded: the least recently used key goes first', async (t) => {
  const cache = new KeyCache({ max: 2 })
  cache.resume()
  const a = loader(key('a'))
  await cache.get('hash-a', a.load)
  await cache.get('hash-b', loader(key('b')).load)
  await cache.get('hash-a', a.load)
  await cache.get('hash-c', loader(key('c')).load)
  t.equal(cache.size, 2)
  await cache.get('hash-a', a.load)
  t.equal(a.reads, 1, 'a was used recently, so b went')
})
