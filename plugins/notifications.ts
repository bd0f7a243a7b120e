// `fastify.notifications`: the one PostgreSQL connection per instance that LISTENs, on every channel
// a cache subscribes to (inbound route declarations, key changes). Writers NOTIFY inside their own
// transaction (`select pg_notify(…)` through lib/db/sql.ts), so a notification arrives only once
// the change is committed. A dropped connection may have missed notifications: every subscriber is
// told at once (`lost`) so it stops trusting what it cached, and again once listening resumes.
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import pg from 'pg'

export interface Subscriber {
  /** A NOTIFY on the channel, with its payload. */
  message: (payload: string) => void
  /** The connection dropped: notifications are being missed until the next `listening`. */
  lost: () => void
  /** Listening (again): anything cached before now may be stale. */
  listening: () => void
}

export interface Notifications {
  /** Starts listening on `channel` (a constant of the code, such as `loop_api_keys`). */
  subscribe: (channel: string, subscriber: Subscriber) => Promise<void>
}

declare module 'fastify' {
  interface FastifyInstance {
    notifications: Notifications
  }
}

/** How long to wait before the first new attempt to connect after a drop; doubled after each failed attempt, up to the cap. */
const RECONNECT_MS = 250
const RECONNECT_MAX_MS = 10_000
/** PostgreSQL's own identifier rule, kept narrow: LISTEN takes a name, never a bound value. */
const channelName = /^[a-z_][a-z0-9_]*$/
/** What pg_stat_activity shows for this connection (operators size max_connections by it). */
export const listenerApplicationName = 'loop-listener'

async function notificationsPlugin (fastify: FastifyInstance): Promise<void> {
  const subscribers = new Map<string, Subscriber[]>()
  let client: pg.Client | null = null
  let closing = false
  let retry: NodeJS.Timeout | undefined
  /** Failed attempts since the connection was lost: they space the next attempts and the log lines. */
  let failures = 0

  const everyone = () => [...subscribers.values()].flat()
  const listenSql = (channels: Iterable<string>) => [...channels].map((channel) => `listen ${channel};`).join(' ')

  // A database that is down stays down for a while: each failed attempt doubles the wait (250 ms
  // up to 10 s), and only the 1st, 2nd, 4th, 8th… failure is logged, so an outage does not
  // flood the log with a line every 250 ms.
  const scheduleReconnect = () => {
    if (closing || retry !== undefined) return
    retry = setTimeout(() => {
      retry = undefined
      void connect().then(() => { failures = 0 }, (err: unknown) => {
        failures++
        if (Number.isInteger(Math.log2(failures))) fastify.log.warn({ err, failures }, 'notification listener could not reconnect; trying again')
        scheduleReconnect()
      })
    }, Math.min(RECONNECT_MS * 2 ** failures, RECONNECT_MAX_MS))
  }

  const connect = async (): Promise<void> => {
    const next = new pg.Client({ connectionString: fastify.databaseUrl, application_name: listenerApplicationName })
    let dropped = false
    const drop = (err?: Error) => {
      if (dropped) return
      dropped = true
      if (client === next) client = null
      void next.end().catch(() => {})
      if (closing) return
      fastify.log.warn({ err }, 'notification listener lost its connection; caches cleared, reconnecting')
      for (const subscriber of everyone()) subscriber.lost()
      scheduleReconnect()
    }
    next.on('notification', (message) => {
      if (message.payload === undefined) return
      for (const subscriber of subscribers.get(message.channel) ?? []) subscriber.message(message.payload)
    })
    next.on('error', drop)
    next.on('end', () => drop())
    try {
      await next.connect()
      // Until `client` is set, a subscription made meanwhile is only in the map: listen on it too.
      const listened = new Set<string>()
      for (let missing = [...subscribers.keys()]; missing.length > 0; missing = [...subscribers.keys()].filter((c) => !listened.has(c))) {
        await next.query(listenSql(missing))
        for (const channel of missing) listened.add(channel)
      }
    } catch (error) {
      dropped = true
      await next.end().catch(() => {})
      throw error
    }
    if (closing) {
      // The app closed while this attempt connected: its onClose found no client to end.
      dropped = true
      await next.end().catch(() => {})
      return
    }
    client = next
    for (const subscriber of everyone()) subscriber.listening()
  }

  await connect()
  fastify.decorate('notifications', {
    subscribe: async (channel: string, subscriber: Subscriber) => {
      if (!channelName.test(channel)) throw new Error(`not a channel name: ${channel}`)
      const known = subscribers.get(channel)
      if (known !== undefined) known.push(subscriber)
      else subscribers.set(channel, [subscriber])
      const current = client
      // Not connected: the next connection listens on it and says `listening`.
      if (current === null) return
      if (known === undefined) await current.query(listenSql([channel]))
      subscriber.listening()
    }
  })
  fastify.addHook('onClose', async () => {
    closing = true
    clearTimeout(retry)
    await client?.end().catch(() => {})
  })
}

export default fp(notificationsPlugin, { name: 'loop-notifications', dependencies: ['loop-database'], fastify: '5.x' })
