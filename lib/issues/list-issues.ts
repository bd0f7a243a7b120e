// GET /api/issues: filtered, most urgent first (priority, then age by number), keyset-paginated
// so a page never skips or repeats an issue while others are being created.
import type { EntityManager } from '@mikro-orm/postgresql'
import { Issue, type IssuePriority, type IssueStatus, type IssueType } from '../db/entities/issue.ts'
import { decodeCursor, encodeCursor } from '../pagination/cursor.ts'
import { ownedBy, type Caller } from '../tenancy/caller.ts'

export interface IssueQuery {
  status?: IssueStatus[]
  type?: IssueType[]
  priority?: IssuePriority[]
  cursor?: string
  limit: number
}

const isIssueKey = (key: unknown[]): key is [IssuePriority, number] =>
  key.length === 2 && [1, 2, 3, 4].includes(key[0] as number) && Number.isSafeInteger(key[1])

export async function listIssues (em: EntityManager, caller: Caller, query: IssueQuery): Promise<{ issues: Issue[], nextCursor: string | null }> {
  const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor, isIssueKey)
  const rows = await em.find(Issue, {
    ...ownedBy(caller),
    ...(query.status !== undefined ? { status: { $in: query.status } } : {}),
    ...(query.type !== undefined ? { type: { $in: query.type } } : {}),
    ...(query.priority !== undefined ? { priority: { $in: query.priority } } : {}),
    ...(after !== undefined ? { $or: [{ priority: { $gt: after[0] } }, { priority: after[0], number: { $gt: after[1] } }] } : {})
  }, { orderBy: { priority: 'asc', number: 'asc' }, limit: query.limit + 1 })
  const issues = rows.slice(0, query.limit)
  const last = issues.at(-1)
  return { issues, nextCursor: rows.length > query.limit && last !== undefined ? encodeCursor([last.priority, last.number]) : null }
}
