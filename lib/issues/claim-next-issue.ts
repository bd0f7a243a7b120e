// POST /api/issues/claim: the agents' polling loop (SPEC section 5). One statement picks the most
// urgent claimable issue and marks it in_progress; FOR UPDATE SKIP LOCKED lets concurrent agents
// pass over a row another agent is claiming, so no issue is ever handed to two of them.
import type { EntityManager } from '@mikro-orm/postgresql'
import { Issue, type IssueType } from '../db/entities/issue.ts'
import { announceIssue } from '../delivery/announcements.ts'

// Claimable: in the queue (triage/todo) and either unassigned or assigned to this agent.
const claim = (typeFilter: string) => `
  update issue
  set status = 'in_progress', claimed_by = ?, claimed_at = now(), updated_at = now()
  where id = (
    select id from issue
    where status in ('triage', 'todo') and (assignee is null or assignee = ?) ${typeFilter}
    order by priority, number
    limit 1
    for update skip locked
  )
  returning *`

const claimAny = claim('')
const claimOfTypes = claim('and type in (?)')

export async function claimNextIssue (em: EntityManager, agent: string, types?: IssueType[]): Promise<Issue | null> {
  // A claim changes the issue (in_progress, claimedBy): issue.updated is queued with it.
  return await em.transactional(async (tx) => {
    const rows = types === undefined || types.length === 0
      ? await tx.execute(claimAny, [agent, agent])
      : await tx.execute(claimOfTypes, [agent, agent, types])
    const [row] = rows
    if (row === undefined) return null
    const issue = tx.map(Issue, row)
    await announceIssue(tx, issue, 'issue.updated')
    return issue
  })
}
