// Signal and issue changes as outbound messages (docs/webhooks.md#messages): signal.created, issue.created,
// issue.updated. Called inside the transaction that makes the change. Each goes to the endpoints
// of its owner's env and brand, and to the operator's (brandless) ones of that env
// (docs/tenancy.md); `data` is the resource the API shows.
import { randomUUID } from 'node:crypto'
import type { EntityManager } from '@mikro-orm/postgresql'
import { Issue } from '../db/entities/issue.ts'
import { Signal } from '../db/entities/signal.ts'
import { toIssueResource } from '../issues/issue-resource.ts'
import { toSignalResource } from '../signals/signal-resource.ts'
import type { Owner } from '../tenancy/caller.ts'
import { enqueueMessages } from './fan-out.ts'

/** signal.created and issue.created for a signal just recorded with its triage issue. */
export async function announceSignal (em: EntityManager, owner: Owner, signalId: string, issueId: string): Promise<void> {
  const createdAt = new Date().toISOString()
  await enqueueMessages(em, owner, [
    {
      id: randomUUID(),
      type: 'signal.created',
      createdAt,
      // The provider payload stays out of the message (it can be as large as the body limit):
      // GET /api/signals/{id} returns it.
      dataJson: async () => JSON.stringify(toSignalResource(await em.findOneOrFail(Signal, { id: signalId }), issueId, { payload: false }))
    },
    {
      id: randomUUID(),
      type: 'issue.created',
      createdAt,
      dataJson: async () => JSON.stringify(toIssueResource(await em.findOneOrFail(Issue, { id: issueId })))
    }
  ])
}

/** issue.created or issue.updated for an issue as it now stands (flushed in this transaction). */
export async function announceIssue (em: EntityManager, issue: Issue, type: 'issue.created' | 'issue.updated'): Promise<void> {
  await enqueueMessages(em, { env: issue.env, brandId: issue.brandId ?? null }, [
    { id: randomUUID(), type, createdAt: new Date().toISOString(), dataJson: JSON.stringify(toIssueResource(issue)) }
  ])
}
