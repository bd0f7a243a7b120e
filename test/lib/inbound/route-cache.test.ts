// The inbound route cache keeps what it read only when no change can have been missed: not a read
// that overlapped an announcement, and nothing while no connection listens for them.
import t from 'tap'
import { authHeaders, build } from '../../helper.ts'
import { sql } from '../../../lib/db/sql.ts'
import { InboundRouteCache } from '../../../lib/inbound/route-cache.ts'

const app = await build(t)
const brand = await authHeaders(app, ['schemas:write'])
const path = '/webhooks/shopify/cache-race'
const declared = await app.inject({ method: 'POST', url: '/api/events/types', headers: brand, payload: { name: 'order.completed.v1', source: 'shopify', webhookPath: path, secret: 'first secret' } })
if (declared.statusCode !== 201 && declared.statusCode !== 200) throw new Error(`declare: ${declared.statusCode} ${declared.body}`)

const setSecret = async (secret: string) => { await sql(app.orm.em.fork(), 'update inbound_route set secret = ? where webhook_path = ?', [secret, path]) }

t.test('a read that overlaps an announcement is served but not kept', async (t) => {
  await setSecret('before')
  const cache = new InboundRouteCache()
  cache.resume()
  const reading = cache.get(app.orm.em.fork(), path)
  // The change is announced while the read is on its way: what it brings back may predate it.
  cache.invalidate(path)
  t.equal((await reading)?.secret, 'before')
  await setSecret('after')
  t.equal((await cache.get(app.orm.em.fork(), path))?.secret, 'after', 'the next request reads the database again')
  await setSecret('later, unannounced')
  t.equal((await cache.get(app.orm.em.fork(), path))?.secret, 'after', 'a read with nothing announced meanwhile is kept')
})

t.test('nothing is kept while no connection listens for changes', async (t) => {
  const cache = new InboundRouteCache()
  await setSecret('one')
  t.equal((await cache.get(app.orm.em.fork(), path))?.secret, 'one')
  await setSecret('two')
  t.equal((await cache.get(app.orm.em.fork(), path))?.secret, 'two', 'not yet listening: read every time')
  cache.resume()
  await cache.get(app.orm.em.fork(), path)
  cache.suspend()
  await setSecret('three')
  t.equal((await cache.get(app.orm.em.fork(), path))?.secret, 'three', 'the connection dropped: what was kept is gone')
})
