// The listening connection (plugins/notifications.ts) through a database outage: while PostgreSQL
// refuses it, each new attempt waits twice as long as the last and only the 1st, 2nd, 4th…
// failure is logged; once the database takes connections again, it listens again.
import t from 'tap'
import { Writable } from 'node:stream'
import pg from 'pg'
import { sql } from '../../lib/db/sql.ts'
import { listenerApplicationName } from '../../plugins/notifications.ts'
import { buildWithDetails } from '../helper.ts'
import { eventually } from '../receiver.ts'

interface Line { msg: string, time: number, failures?: number }

t.test('a listener that cannot reconnect backs off, logs sparsely, and listens again once it can', async (t) => {
  const lines: Line[] = []
  const logStream = new Writable({ write (chunk, _encoding, done) { lines.push(JSON.parse(String(chunk)) as Line); done() } })
  const { app, databaseUrl } = await buildWithDetails(t, { LOG_LEVEL: 'warn' }, undefined, { logStream })
  const run = async <R>(text: string, params: unknown[] = []) => await sql<R>(app.orm.em.fork(), text, params)
  const name = new URL(databaseUrl).pathname.slice(1)
  // A database's connections are allowed or not from another database's session.
  const maintenance = new URL(databaseUrl)
  maintenance.pathname = '/postgres'
  const outside = new pg.Client({ connectionString: maintenance.toString() })
  await outside.connect()
  t.teardown(async () => { await outside.end() })
  const allowConnections = async (allowed: boolean) => { await outside.query(`alter database "${name.replace(/"/g, '""')}" allow_connections ${String(allowed)}`) }
  const listeners = async () => await run<{ pid: number }>('select pid from pg_stat_activity where datname = current_database() and application_name = ?', [listenerApplicationName])
  const [before] = await listeners()
  t.ok(before, 'one listening connection')

  // The outage: no new connection to this database, and the listener's own is cut.
  await allowConnections(false)
  t.teardown(async () => { await allowConnections(true) })
  await run('select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and application_name = ?', [listenerApplicationName])

  const failed = () => lines.filter((line) => line.msg === 'notification listener could not reconnect; trying again')
  // Three lines: the 1st, 2nd and 4th failures (the 3rd is not logged), the 4th after waits of
  // 0.5, 1 and 2 s since the 1st, where a fixed 250 ms retry logged a line every 250 ms.
  await eventually(() => failed().length >= 3 ? true : undefined, 15_000, 'the 4th failed attempt')
  const logged = failed()
  t.same(logged.map((line) => line.failures), [1, 2, 4], 'the 1st, 2nd and 4th failures are logged, no other')
  const [first, , fourth] = logged
  t.ok((fourth?.time ?? 0) - (first?.time ?? 0) >= 0.5 * (500 + 1000 + 2000), `the attempts back off (${(fourth?.time ?? 0) - (first?.time ?? 0)} ms from the 1st failure to the 4th)`)

  // The database is back: the listener connects again on its own (at most 10 s later).
  await allowConnections(true)
  const after = await eventually(async () => (await listeners()).find((row) => row.pid !== before?.pid), 20_000, 'a new listener')
  t.not(after.pid, before?.pid, 'listening again on a new connection')
})
