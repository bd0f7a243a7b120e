// GET /api/signals: newest first, keyset-paginated on (createdAt, id); payloads are left out.
import type { EntityManager } from '@mikro-orm/postgresql'
import { Issue } from '../db/entities/issue.ts'
import { Signal, type SignalSource } from '../db/entities/signal.ts'
import type { Severity } from '../severity/signal-mapping.ts'
import { newestFirst, type Page, type PageRequest } from '../pagination/cursor.ts'
import { ownedBy, type Caller } from '../tenancy/caller.ts'
import { toSignalResource, type SignalResource } from './signal-resource.ts'

export interface SignalFilters {
  source?: SignalSource[] | undefined
  severity?: Severity[] | undefined
}

const pager = newestFirst<Signal>('signals', 'createdAt')

/** The caller's signals: the operator's (every brand's alerts and the providers'), or its brand's alerts. */
export async function listSignals (em: EntityManager, caller: Caller, filters: SignalFilters, request: PageRequest): Promise<Page<SignalResource>> {
  const page = await pager.find(em, Signal, {
    ...ownedBy(caller),
    ...(filters.source !== undefined ? { source: { $in: filters.source } } : {}),
    ...(filters.severity !== undefined ? { severity: { $in: filters.severity } } : {})
  }, request, { ...filters }, (signal) => signal)
  // One query for the page's issues, never one per signal.
  const issues = page.data.length === 0 ? [] : await em.find(Issue, { signalId: { $in: page.data.map((s) => s.id) } }, { fields: ['id', 'signalId'] })
  const issueBySignal = new Map(issues.map((i) => [i.signalId, i.id]))
  const issueOf = (signal: Signal): string => {
    const issueId = issueBySignal.get(signal.id)
    // Signal and issue commit together, so a signal without its issue would be a broken invariant.
    if (issueId === undefined) throw new Error(`signal ${signal.id} has no issue`)
    return issueId
  }
  return { ...page, data: page.data.map((signal) => toSignalResource(signal, issueOf(signal), { payload: false })) }
}
