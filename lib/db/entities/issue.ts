// A unit of work for people and agents (docs/signals.md#issues). Signal issues are created with their
// signal; the rest through the API. `number` is a PostgreSQL identity: sequential without races.
import { randomUUID } from 'node:crypto'
import { defineEntity, p, type InferEntity, type Opt } from '@mikro-orm/core'
import type { KeyEnv } from '../../keys/api-key.ts'

export const issueTypes = ['signal', 'bug', 'feature', 'task'] as const
export type IssueType = typeof issueTypes[number]

export const issueStatuses = ['triage', 'todo', 'in_progress', 'done', 'canceled'] as const
export type IssueStatus = typeof issueStatuses[number]

export type IssuePriority = 1 | 2 | 3 | 4

export const Issue = defineEntity({
  name: 'Issue',
  tableName: 'issue',
  properties: {
    id: p.uuid().primary().onCreate(() => randomUUID()),
    // Assigned by the database (generated always as identity) and read back on insert.
    number: p.integer().$type<Opt<number>>().generated('identity'),
    type: p.string().$type<IssueType>(),
    status: p.string().$type<IssueStatus>(),
    priority: p.smallint().$type<IssuePriority>(),
    title: p.text(),
    description: p.text().nullable(),
    // A plain column rather than a relation: the issue's one signal is loaded only where it is shown.
    signalId: p.uuid().nullable(),
    assignee: p.string().nullable(),
    // The owner (docs/tenancy.md): a signal issue's is its signal's; any other the creating key's.
    brandId: p.uuid().nullable(),
    env: p.string().$type<KeyEnv>(),
    claimedBy: p.string().nullable(),
    claimedAt: p.datetime(3).nullable(),
    createdAt: p.datetime(3).onCreate(() => new Date()),
    updatedAt: p.datetime(3).onCreate(() => new Date()).onUpdate(() => new Date())
  }
})

export type Issue = InferEntity<typeof Issue>
