// GET /api/signals: newest first, keyset-paginated on (createdAt, id); payloads are left out.
import type { EntityManager } from '@mikro-orm/postgresql'
import { Issue } from '../db/entities/issue.ts'
import { Signal, type SignalSource } from '../db/entities/signal.ts'
import type { Severity } from '../severity/signal-mapping.ts'
import { decodeCursor, encodeCursor } from '../pagination/cursor.ts'
import { ownedBy, type Caller } from '../tenancy/caller.ts'

export interface SignalQuery {
  source?: SignalSource[]
  severity?: Severity[]
  cursor?: string
  limit: number
}

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
const isSignalKey = (key: unknown[]): key is [number, string] =>
  key.length === 2 && Number.isSafeInteger(key[0]) && typeof key[1] === 'string' && uuid.test(key[1])

export interface SignalPage {
  signals: { signal: Signal, issueId: string }[]
  nextCursor: string | null
}

/** The caller's signals: the operator's (every brand's alerts and the providers'), or its brand's alerts. */
export async function listSignals (em: EntityManager, caller: Caller, query: SignalQuery): Promise<SignalPage> {
  const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor, isSignalKey)
  const before = after === undefined ? undefined : new Date(after[0])
  const rows = await em.find(Signal, {
    ...ownedBy(caller),
    ...(query.source !== undefined ? { source: { $in: query.source } } : {}),
    ...(query.severity !== undefined ? { severity: { $in: query.severity } } : {}),
    ...(after !== undefined ? { $or: [{ createdAt: { $lt: before } }, { createdAt: before, id: { $lt: after[1] } }] } : {})
  }, { orderBy: { createdAt: 'desc', id: 'desc' }, limit: query.limit + 1 })
  const page = rows.slice(0, query.limit)
  const issues = page.length === 0 ? [] : await em.find(Issue, { signalId: { $in: page.map((s) => s.id) } }, { fields: ['id', 'signalId'] })
  const issueBySignal = new Map(issues.map((i) => [i.signalId, i.id]))
  const issueOf = (signal: Signal): string => {
    const issueId = issueBySignal.get(signal.id)
    // Signal and issue commit together, so a signal without its issue would be a broken invariant.
    if (issueId === undefined) throw new Error(`signal ${signal.id} has no issue`)
    return issueId
  }
  const last = page.at(-1)
  return {
    signals: page.map((signal) => ({ signal, issueId: issueOf(signal) })),
    nextCursor: rows.length > query.limit && last !== undefined ? encodeCursor([last.createdAt.getTime(), last.id]) : null
  }
}
