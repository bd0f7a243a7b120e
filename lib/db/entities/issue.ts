// A unit of work for people and agents (docs/signals.md#issues). Signal issues are created with their
// signal; the rest through the API. `number` is a PostgreSQL identity: sequential without races.
import { randomUUID } from 'node:crypto'
import { defineEntity, p, type InferEntity, type Opt } from '@mikro-orm/core'
import { Brand } from './brand.ts'
import { Signal } from './signal.ts'

export const issueTypes = ['signal', 'bug', 'feature', 'task'] as const
export type IssueType = typeof issueTypes[number]

export const issueStatuses = ['triage', 'todo', 'in_progress', 'done', 'canceled'] as const
export type IssueStatus = typeof issueStatuses[number]

export type IssuePriority = 1 | 2 | 3 | 4

export const Issue = defineEntity({
  name: 'Issue',
  tableName: 'issue',
  properties: {
    id: p.uuid().primary().onCreate(() => randomUUID()).defaultRaw('gen_random_uuid()'),
    // Assigned by the database (generated always as identity) and read back on insert.
    number: p.integer().$type<Opt<number>>().generated('identity').autoincrement().unique('issue_number_key'),
    type: p.enum([...issueTypes]),
    status: p.enum([...issueStatuses]),
    priority: p.smallint().$type<IssuePriority>(),
    title: p.text(),
    description: p.text().nullable(),
    // The issue's one signal, kept as its id (mapToPk): it is loaded only where it is shown.
    signalId: p.manyToOne(Signal).mapToPk().nullable().fieldName('signal_id').unique('issue_signal_id_key').foreignKeyName('issue_signal_id_fkey').deleteRule('no action').updateRule('no action'),
    assignee: p.text().nullable(),
    // The owner (docs/tenancy.md): a signal issue's is its signal's; any other the creating key's.
    brandId: p.manyToOne(Brand).mapToPk().nullable().fieldName('brand_id').foreignKeyName('issue_brand_id_fkey').deleteRule('no action').updateRule('no action'),
    env: p.enum(['live', 'test', 'dev']),
    claimedBy: p.text().nullable(),
    claimedAt: p.datetime(3).nullable(),
    createdAt: p.datetime(3).onCreate(() => new Date()).defaultRaw('now()'),
    updatedAt: p.datetime(3).onCreate(() => new Date()).onUpdate(() => new Date()).defaultRaw('now()')
  },
  indexes: [
    // The claim loop and the list both walk issues by priority, then age (number): the operator's
    // by env, a brand's by (brand_id, env).
    { name: 'issue_env_by_priority', expression: 'create index issue_env_by_priority on issue (env, priority, number)' },
    { name: 'issue_env_claimable', expression: "create index issue_env_claimable on issue (env, priority, number) where status in ('triage', 'todo')" },
    { name: 'issue_owner_claimable', expression: "create index issue_owner_claimable on issue (brand_id, env, priority, number) where status in ('triage', 'todo')" },
    { name: 'issue_owner_by_priority', properties: ['brandId', 'env', 'priority', 'number'] }
  ],
  checks: [
    { name: 'issue_priority_check', expression: 'priority >= 1 and priority <= 4' },
    { name: 'issue_title_check', expression: 'char_length(title) >= 1 and char_length(title) <= 500' },
    { name: 'issue_description_check', expression: 'char_length(description) <= 65536' },
    { name: 'issue_assignee_check', expression: 'char_length(assignee) >= 1 and char_length(assignee) <= 200' },
    { name: 'issue_claimed_by_check', expression: 'char_length(claimed_by) >= 1 and char_length(claimed_by) <= 200' },
    // An issue of type signal always points at the signal it came from.
    { name: 'issue_signal_has_signal', expression: "type <> 'signal' or signal_id is not null" }
  ]
})

export type Issue = InferEntity<typeof Issue>
