// GET /api/issues/{id}: one issue and, for a signal issue, the signal with its payload.
import type { EntityManager } from '@mikro-orm/postgresql'
import { notFound } from '../errors.ts'
import { Issue } from '../db/entities/issue.ts'
import { Signal } from '../db/entities/signal.ts'

export async function getIssue (em: EntityManager, id: string): Promise<{ issue: Issue, signal: Signal | null }> {
  const issue = await em.findOne(Issue, { id })
  if (issue === null) throw notFound(`Issue ${id} not found`)
  const signal = issue.signalId == null ? null : await em.findOne(Signal, { id: issue.signalId }, { populate: ['payload'] })
  return { issue, signal }
}
