// GET /api/issues/{id}: one issue and, for a signal issue, the signal with its payload.
import type { EntityManager } from '@mikro-orm/postgresql'
import { notFound } from '../errors.ts'
import { Issue } from '../db/entities/issue.ts'
import { Signal } from '../db/entities/signal.ts'
import { ownedBy, type Caller } from '../tenancy/caller.ts'

export async function getIssue (em: EntityManager, caller: Caller, id: string): Promise<{ issue: Issue, signal: Signal | null }> {
  const issue = await em.findOne(Issue, { id, ...ownedBy(caller) })
  if (issue === null) throw notFound(`Issue ${id} not found`)
  // The signal has its issue's owner (they are written together), so it is the caller's too.
  const signal = issue.signalId == null ? null : await em.findOne(Signal, { id: issue.signalId, ...ownedBy(caller) }, { populate: ['payload'] })
  return { issue, signal }
}
