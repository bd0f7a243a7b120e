// Issue changes as outbound messages (docs/webhooks.md#messages): issue.created and issue.updated,
// called inside the transaction that makes the change (a signal's signal.created and issue.created
// are queued by lib/ingest/signal-batch.ts). Each goes to the endpoints of its owner's env and
// brand, and to the operator's (brandless) ones of that env (docs/tenancy.md); `data` is the
// resource the API shows.
import { randomUUID } from 'node:crypto'
import type { EntityManager } from '@mikro-orm/postgresql'
import type { Issue } from '../db/entities/issue.ts'
import { toIssueResource } from '../issues/issue-resource.ts'
import { enqueueDeliveries } from './fan-out.ts'

/** issue.created or issue.updated for an issue as it now stands (flushed in this transaction). */
export async function announceIssue (em: EntityManager, issue: Issue, type: 'issue.created' | 'issue.updated'): Promise<void> {
  await enqueueDeliveries(em, {
    id: randomUUID(), type, createdAt: new Date().toISOString(), dataJson: JSON.stringify(toIssueResource(issue)), env: issue.env, brandId: issue.brandId ?? null
  })
}
