// An issue as the API shows it (components.schemas.Issue): ISO dates, explicit nulls.
import type { components } from '../../generated/openapi.ts'
import type { Issue } from '../db/entities/issue.ts'

export type IssueResource = components['schemas']['Issue']

/** What the resource is made of: an entity, or the columns a batch insert returned (lib/ingest). */
export type IssueFields = Pick<Issue, 'id' | 'number' | 'type' | 'status' | 'priority' | 'title' | 'description' | 'signalId' | 'assignee' | 'claimedBy' | 'claimedAt' | 'brandId' | 'env' | 'createdAt' | 'updatedAt'>

export function toIssueResource (issue: IssueFields): IssueResource {
  return {
    id: issue.id,
    number: issue.number,
    type: issue.type,
    status: issue.status,
    priority: issue.priority,
    title: issue.title,
    description: issue.description ?? null,
    signalId: issue.signalId ?? null,
    assignee: issue.assignee ?? null,
    claimedBy: issue.claimedBy ?? null,
    claimedAt: issue.claimedAt?.toISOString() ?? null,
    brandId: issue.brandId ?? null,
    env: issue.env,
    createdAt: issue.createdAt.toISOString(),
    updatedAt: issue.updatedAt.toISOString()
  }
}
