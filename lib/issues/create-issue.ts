// POST /api/issues: a bug, feature or task written by a person or an agent, owned by the caller's
// brand and env. Signal issues are only created with their signal (lib/signals/record-signal.ts).
import type { EntityManager } from '@mikro-orm/postgresql'
import type { components } from '../../generated/openapi.ts'
import { Issue, type IssuePriority } from '../db/entities/issue.ts'
import { announceIssue } from '../outbound/announcements.ts'
import { ownerOf, type Caller } from '../tenancy/caller.ts'

export type NewIssue = components['schemas']['CreateIssueRequest']

export async function createIssue (em: EntityManager, caller: Caller, input: NewIssue): Promise<Issue> {
  // issue.created is queued for webhook endpoints in the same transaction as the issue.
  return await em.transactional(async (tx) => {
    const issue = tx.create(Issue, {
      type: input.type ?? 'task',
      // Both start states are claimable; todo says a person already decided it is worth doing.
      status: input.status ?? 'todo',
      priority: (input.priority ?? 3) as IssuePriority,
      title: input.title,
      description: input.description ?? null,
      assignee: input.assignee ?? null,
      ...ownerOf(caller)
    })
    await tx.flush()
    await announceIssue(tx, issue, 'issue.created')
    return issue
  })
}
