// POST /api/issues/claim: the agents' polling loop (docs/signals.md#claiming). One statement picks the most
// urgent claimable issue the caller owns (docs/tenancy.md) and marks it in_progress; FOR UPDATE
// SKIP LOCKED lets concurrent agents pass over a row another agent is claiming, so no issue is
// ever handed to two of them.
import type { EntityManager } from '@mikro-orm/postgresql'
import { Issue, type IssueType } from '../db/entities/issue.ts'
import { announceIssue } from '../outbound/announcements.ts'
import { sql } from '../db/sql.ts'
import { ownerSql, type Caller } from '../tenancy/caller.ts'

// Claimable: the caller's, in the queue (triage/todo) and either unassigned or assigned to this agent.
const claim = (owner: string, typeFilter: string) => `
  update issue
  set status = 'in_progress', claimed_by = ?, claimed_at = now(), updated_at = now()
  where id = (
    select id from issue
    where ${owner} and status in ('triage', 'todo') and (assignee is null or assignee = ?) ${typeFilter}
    order by priority, number
    limit 1
    for update skip locked
  )
  returning *`

export async function claimNextIssue (em: EntityManager, caller: Caller, agent: string, types?: IssueType[]): Promise<Issue | null> {
  const owner = ownerSql(caller)
  const ofTypes = types !== undefined && types.length > 0
  // A claim changes the issue (in_progress, claimedBy): issue.updated is queued with it.
  return await em.transactional(async (tx) => {
    const [row] = await sql<Record<string, unknown>>(tx, claim(owner.sql, ofTypes ? 'and type = any (?)' : ''),
      [agent, ...owner.params, agent, ...(ofTypes ? [types] : [])])
    if (row === undefined) return null
    const issue = tx.map(Issue, row)
    await announceIssue(tx, issue, 'issue.updated')
    return issue
  })
}
