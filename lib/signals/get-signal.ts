// GET /api/signals/{id}: one signal with its payload, and the issue it created.
import type { EntityManager } from '@mikro-orm/postgresql'
import { notFound } from '../errors.ts'
import { Issue } from '../db/entities/issue.ts'
import { Signal } from '../db/entities/signal.ts'
import { ownedBy, type Caller } from '../tenancy/caller.ts'

export async function getSignal (em: EntityManager, caller: Caller, id: string): Promise<{ signal: Signal, issueId: string }> {
  const signal = await em.findOne(Signal, { id, ...ownedBy(caller) }, { populate: ['payload'] })
  if (signal === null) throw notFound(`Signal ${id} not found`)
  const issue = await em.findOne(Issue, { signalId: id }, { fields: ['id'] })
  // Signal and issue commit together, so a signal without its issue would be a broken invariant.
  if (issue === null) throw new Error(`signal ${id} has no issue`)
  return { signal, issueId: issue.id }
}
