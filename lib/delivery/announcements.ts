// Signal and issue changes as outbound messages (SPEC section 8): signal.created, issue.created,
// issue.updated. Called inside the transaction that makes the change. Signals and issues belong
// to no brand and come from real providers, so they go to brandless live endpoints (those a key
// with signals:read or issues:read registered); `data` is the resource the API shows.
import { randomUUID } from 'node:crypto'
import type { EntityManager } from '@mikro-orm/postgresql'
import { Issue } from '../db/entities/issue.ts'
import { Signal } from '../db/entities/signal.ts'
import { toIssueResource } from '../issues/issue-resource.ts'
import { toSignalResource } from '../signals/signal-resource.ts'
import { enqueueMessages, type Audience } from './fan-out.ts'

const everyBrand: Audience = { env: 'live', brandId: null }

/** signal.created and issue.created for a signal just recorded with its triage issue. */
export async function announceSignal (em: EntityManager, signalId: string, issueId: string): Promise<void> {
  const createdAt = new Date().toISOString()
  await enqueueMessages(em, everyBrand, [
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
  await enqueueMessages(em, everyBrand, [
    { id: randomUUID(), type, createdAt: new Date().toISOString(), dataJson: JSON.stringify(toIssueResource(issue)) }
  ])
}
