// PATCH /api/issues/{id}: field changes and status transitions (lib/issues/status-transitions.ts).
// The row is locked for the check and the write, so two concurrent changes cannot both pass a
// check made against the same old status.
import { LockMode } from '@mikro-orm/core'
import type { EntityManager } from '@mikro-orm/postgresql'
import type { components } from '../../generated/openapi.ts'
import { notFound } from '../errors.ts'
import { Issue, type IssuePriority } from '../db/entities/issue.ts'
import { assertTransition, releasesClaim } from './status-transitions.ts'
import { toIssueResource } from './issue-resource.ts'
import { announceIssue } from '../outbound/announcements.ts'
import { ownedBy, type Caller } from '../tenancy/caller.ts'

export type IssueChanges = components['schemas']['UpdateIssueRequest']

export async function updateIssue (em: EntityManager, caller: Caller, id: string, changes: IssueChanges): Promise<Issue> {
  return await em.transactional(async (tx) => {
    const issue = await tx.findOne(Issue, { id, ...ownedBy(caller) }, { lockMode: LockMode.PESSIMISTIC_WRITE })
    if (issue === null) throw notFound(`Issue ${id} not found`)
    const before = JSON.stringify(toIssueResource(issue))
    const { status, priority, ...fields } = changes
    if (status !== undefined && status !== issue.status) {
      assertTransition(issue.number, issue.status, status)
      if (releasesClaim(status)) tx.assign(issue, { claimedBy: null, claimedAt: null })
      issue.status = status
    }
    if (priority !== undefined) issue.priority = priority as IssuePriority
    tx.assign(issue, fields)
    await tx.flush()
    // issue.updated goes out with the change itself, and only when something did change.
    if (JSON.stringify(toIssueResource(issue)) !== before) await announceIssue(tx, issue, 'issue.updated')
    return issue
  })
}
