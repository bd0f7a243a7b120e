// GET /api/issues: filtered, most urgent first (priority, then age by number), keyset-paginated
// so a page never skips or repeats an issue while others are being created.
import type { EntityManager } from '@mikro-orm/postgresql'
import { Issue, type IssuePriority, type IssueStatus, type IssueType } from '../db/entities/issue.ts'
import { Pager, type Page, type PageRequest } from '../pagination/cursor.ts'
import { toIssueResource, type IssueResource } from './issue-resource.ts'
import { ownedBy, type Caller } from '../tenancy/caller.ts'

export interface IssueFilters {
  status?: IssueStatus[] | undefined
  type?: IssueType[] | undefined
  priority?: IssuePriority[] | undefined
}

const pager = new Pager<Issue>('issues', [
  { field: 'priority', dir: 'asc', kind: 'int' },
  { field: 'number', dir: 'asc', kind: 'int' }
])

export async function listIssues (em: EntityManager, caller: Caller, filters: IssueFilters, request: PageRequest): Promise<Page<IssueResource>> {
  return await pager.find(em, Issue, {
    ...ownedBy(caller),
    ...(filters.status !== undefined ? { status: { $in: filters.status } } : {}),
    ...(filters.type !== undefined ? { type: { $in: filters.type } } : {}),
    ...(filters.priority !== undefined ? { priority: { $in: filters.priority } } : {})
  }, request, { ...filters }, toIssueResource)
}
