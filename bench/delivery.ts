// `npm run bench`'s delivery figures (issue 17):
// - drain: a backlog of BENCH_DELIVERIES (20,000) deliveries over BENCH_DELIVERY_ENDPOINTS (16)
//   endpoints, one per brand, queued in one transaction through Loop's own fan-out
//   (lib/outbound/fan-out.ts) and drained by the running Loop to a receiver of its own, in
//   deliveries/s; against a bare Node client (undici) sending the same bodies, signed the same way
//   (lib/signing/outbound.ts), to the same receiver, with as many requests in flight as Loop
//   allows itself over those endpoints;
// - first attempt: events sent one at a time through POST /api/events to a subscribed brand, and
//   the time from each 200 (the commit) to its delivery's arrival at the receiver.
import { randomBytes, randomUUID } from 'node:crypto'
import { availableParallelism } from 'node:os'
import { Pool } from 'undici'
import { openOrm } from '../lib/db/orm.ts'
import { sql } from '../lib/db/sql.ts'
import { candidateParams, candidatesSql, enqueueMessages, type CandidateRow } from '../lib/outbound/fan-out.ts'
import { messageBody, type OutboundMessage } from '../lib/outbound/message.ts'
import { outboundHeaders } from '../lib/signing/outbound.ts'
import { createPremiumKeys, subscribeEachBrand } from './loop-tenants.ts'
import { leadCaptured, type BenchKey } from './requests.ts'
import { cpuSpent, readCpu, type CpuReading } from './cpu.ts'

/** Milliseconds of one core spent per delivery while a drain ran (null off Linux). */
export interface DrainCpu {
  /** The sender: Loop's process, or the bench's own for the bare client. */
  sender: number
  receiver: number
  /** Everything else on the machine: PostgreSQL, for Loop's drain. */
  rest: number
  /** How busy the machine's cores were, 0 to 1. */
  machineBusy: number
}

export interface DeliveryFigures {
  deliveries: number
  endpoints: number
  inFlight: number
  loopPerSecond: number
  barePerSecond: number
  cpu: { loop: DrainCpu, bare: DrainCpu } | null
  firstAttemptMs: { p50: number, p95: number, samples: number }
}

interface Setup { loopUrl: string, adminKey: string, databaseUrl: string, receiverUrl: string, loopPid: number, receiverPid: number }

function perDelivery (spent: CpuReading | null, senderPid: number, receiverPid: number, deliveries: number): DrainCpu | null {
  if (spent === null || [...spent.byPid.values()].some(Number.isNaN)) return null
  const sender = spent.byPid.get(senderPid) ?? 0
  const receiver = spent.byPid.get(receiverPid) ?? 0
  const bench = senderPid === process.pid ? 0 : spent.byPid.get(process.pid) ?? 0
  return {
    sender: sender / deliveries,
    receiver: receiver / deliveries,
    rest: Math.max(0, spent.machineBusyMs - sender - receiver - bench) / deliveries,
    machineBusy: spent.machineBusyMs / (spent.wallMs * availableParallelism())
  }
}

const count = async (receiverUrl: string): Promise<number> => ((await (await fetch(`${receiverUrl}/count`)).json()) as { received: number }).received

/** Resolves once the receiver has counted `target` requests; fails after `timeoutMs`. */
async function receivedAtLeast (receiverUrl: string, target: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const seen = await count(receiverUrl)
    if (seen >= target) return
    if (Date.now() > deadline) throw new Error(`the receiver counted ${seen} of ${target} requests after ${timeoutMs / 1000} s`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

function leadPayload (brandId: string): unknown {
  return (JSON.parse(leadCaptured('/', { secret: 'x', brandId }).body as string) as { payload: unknown }).payload
}

/** The backlog's messages: `n` lead.captured.v1 events spread over the brands of `keys`. */
function backlog (n: number, keys: readonly BenchKey[]): OutboundMessage[] {
  const createdAt = new Date().toISOString()
  return Array.from({ length: n }, (_, i) => {
    const brandId = (keys[i % keys.length] as BenchKey).brandId
    return { id: randomUUID(), type: 'lead.captured.v1', createdAt, dataJson: JSON.stringify(leadPayload(brandId)), env: 'live', brandId }
  })
}

interface Drained { perSecond: number, cpu: DrainCpu | null }

/** Loop's drain of the backlog: from its commit to the receiver counting every delivery. */
async function drainThroughLoop (setup: Setup, messages: readonly OutboundMessage[]): Promise<Drained> {
  const orm = await openOrm(setup.databaseUrl)
  const pids = [setup.loopPid, setup.receiverPid, process.pid]
  try {
    const before = await count(setup.receiverUrl)
    let started = 0
    let cpuAtCommit: Promise<CpuReading | null> = Promise.resolve(null)
    const queued = await orm.em.fork().transactional(async (tx) => {
      const candidates = await sql<CandidateRow>(tx, candidatesSql, candidateParams(messages))
      const n = await enqueueMessages(tx, messages, candidates)
      started = performance.now()
      cpuAtCommit = readCpu(pids)
      return n
    })
    if (queued !== messages.length) throw new Error(`the fan-out queued ${queued} deliveries for ${messages.length} messages`)
    await receivedAtLeast(setup.receiverUrl, before + queued, 600_000)
    const perSecond = queued / ((performance.now() - started) / 1000)
    return { perSecond, cpu: perDelivery(cpuSpent(await cpuAtCommit, await readCpu(pids)), setup.loopPid, setup.receiverPid, queued) }
  } finally {
    await orm.close()
  }
}

/** The same bodies, signed as Loop signs them, from undici with `inFlight` requests at a time. */
async function drainBare (setup: Setup, messages: readonly OutboundMessage[], inFlight: number): Promise<Drained> {
  const { receiverUrl } = setup
  const pids = [process.pid, setup.receiverPid]
  const pool = new Pool(receiverUrl, { connections: inFlight })
  const secret = `whsec_${randomBytes(24).toString('base64')}`
  let next = 0
  const started = performance.now()
  const cpuAtStart = await readCpu(pids)
  const sender = async (): Promise<void> => {
    while (next < messages.length) {
      const message = messages[next++] as OutboundMessage
      const body = messageBody({ ...message, dataJson: message.dataJson as string })
      const headers = outboundHeaders({ secret, body, eventType: message.type, deliveryId: randomUUID(), messageId: message.id, timestamp: Math.floor(Date.now() / 1000) })
      const response = await pool.request({ origin: receiverUrl, path: '/bare', method: 'POST', headers, body })
      await response.body.dump()
      if (response.statusCode !== 200) throw new Error(`the receiver answered ${response.statusCode}`)
    }
  }
  await Promise.all(Array.from({ length: inFlight }, sender))
  const perSecond = messages.length / ((performance.now() - started) / 1000)
  const cpu = perDelivery(cpuSpent(cpuAtStart, await readCpu(pids)), process.pid, setup.receiverPid, messages.length)
  await pool.close()
  return { perSecond, cpu }
}

/** Events one at a time to a subscribed brand: milliseconds from each 200 to its delivery's arrival. */
async function firstAttempts (setup: Setup, key: BenchKey, samples: number): Promise<number[]> {
  const acked = new Map<string, number>()
  for (let i = 0; i < samples; i++) {
    const request = leadCaptured('/api/events', key)
    const response = await fetch(`${setup.loopUrl}/api/events`, { method: 'POST', headers: request.headers as Record<string, string>, body: request.body as string })
    const at = Date.now()
    if (response.status !== 200) throw new Error(`POST /api/events answered ${response.status}: ${await response.text()}`)
    acked.set(((await response.json()) as { id: string }).id, at)
  }
  const ids = [...acked.keys()]
  let arrivals: Record<string, number | null> = {}
  const deadline = Date.now() + 60_000
  do {
    arrivals = await (await fetch(`${setup.receiverUrl}/arrivals?ids=${ids.join(',')}`)).json() as Record<string, number | null>
    if (ids.every((id) => arrivals[id] !== null)) break
    await new Promise((resolve) => setTimeout(resolve, 20))
  } while (Date.now() < deadline)
  return ids.map((id) => (arrivals[id] ?? Number.POSITIVE_INFINITY) - (acked.get(id) as number)).sort((a, b) => a - b)
}

const quantile = (sorted: readonly number[], q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN

export async function measureDelivery (setup: Setup, options: { deliveries: number, endpoints: number, inFlight: number }): Promise<DeliveryFigures> {
  const keys = await createPremiumKeys(setup.loopUrl, setup.adminKey, 'drain', options.endpoints, 1)
  await subscribeEachBrand(setup.loopUrl, keys, setup.receiverUrl)
  const messages = backlog(options.deliveries, keys)
  const loop = await drainThroughLoop(setup, messages)
  const bare = await drainBare(setup, messages, options.inFlight)
  const latencies = await firstAttempts(setup, keys[0] as BenchKey, 50)
  return {
    deliveries: options.deliveries,
    endpoints: options.endpoints,
    inFlight: options.inFlight,
    loopPerSecond: loop.perSecond,
    barePerSecond: bare.perSecond,
    cpu: loop.cpu === null || bare.cpu === null ? null : { loop: loop.cpu, bare: bare.cpu },
    firstAttemptMs: { p50: quantile(latencies, 0.5), p95: quantile(latencies, 0.95), samples: latencies.length }
  }
}
