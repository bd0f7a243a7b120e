// buildApp as a whole: a start that fails part-way releases what the plugins before it opened.
import t from 'tap'
import pg from 'pg'
import { buildApp } from './../app.ts'
import { loadConfig } from '../lib/config.ts'
import { createTestDatabase } from './database.ts'
import { testSecrets } from './helper.ts'
import { eventually } from './receiver.ts'

t.test('a plugin failing after the database closes the pool instead of leaving it open', async (t) => {
  const database = await createTestDatabase()
  t.teardown(database.drop)
  const admin = new pg.Client({ connectionString: database.url })
  await admin.connect()
  t.teardown(() => admin.end())
  // The admin key's bootstrap (plugins/auth.ts, after the database plugin) cannot write its row.
  await admin.query('drop table api_keys cascade')
  const config = loadConfig({ LOG_LEVEL: 'silent', ...testSecrets, DATABASE_URL: database.url, LOOP_ADMIN_KEY: 'lk_live_' + 'A'.repeat(40) })

  await t.rejects(buildApp(config, { deliveryWorker: false }), /api_keys/)
  const others = async () => {
    const { rows } = await admin.query<{ n: number }>('select count(*)::int as n from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()')
    return rows[0]?.n === 0 ? true : undefined
  }
  await eventually(others, 5_000, 'every connection Loop opened to be closed')
  t.pass('no connection left behind')
})
