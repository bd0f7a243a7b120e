// Group commit for every write path (lib/ingest): `fastify.ingest.recordSignal` queues a verified
// provider delivery, `fastify.ingest.storeEvent` a validated event (POST /api/events, the inbound
// receivers, a rejection's replay); each resolves once the batch holding it has committed. On
// close, the queued and in-flight batches are written before the database closes (onClose hooks
// run in reverse order).
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { GroupCommit, type BatchObserver } from '../lib/ingest/group-commit.ts'
import { eventBatchWriter, type EventAccepted, type EventItem } from '../lib/ingest/event-batch.ts'
import { signalBatchWriter } from '../lib/ingest/signal-batch.ts'
import { signalRow, type IncomingSignal, type RecordedSignal, type SignalRow } from '../lib/signals/record-signal.ts'
import { providerOwner } from '../lib/tenancy/caller.ts'

export interface Ingest {
  /**
   * Records a provider's signal and its triage issue together with the deliveries arriving
   * alongside it; provider signals are the operator's live rows (docs/tenancy.md).
   */
  recordSignal: (incoming: Omit<IncomingSignal, 'owner'>) => Promise<RecordedSignal>
  /** Stores a validated event with its deliveries, receipt, Idempotency-Key answer and replayed rejection. */
  storeEvent: (item: EventItem) => Promise<EventAccepted>
  /** The batchers, for their stats. */
  signals: GroupCommit<SignalRow, RecordedSignal>
  events: GroupCommit<EventItem, EventAccepted>
}

declare module 'fastify' {
  interface FastifyInstance {
    ingest: Ingest
  }
}

async function ingestPlugin (fastify: FastifyInstance): Promise<void> {
  // Watched by the metrics (sizes, waits, commit times) and, when on, the traces (a span per batch).
  const observers = <T extends object>(writer: 'signals' | 'events'): BatchObserver<T>[] =>
    [fastify.metrics.batchObserver<T>(writer), ...(fastify.tracing === null ? [] : [fastify.tracing.batchObserver<T>(writer)])]
  const signals = new GroupCommit(signalBatchWriter(fastify.orm), fastify.config.ingestBatch, observers<SignalRow>('signals'))
  const events = new GroupCommit(eventBatchWriter(fastify.orm), fastify.config.ingestBatch, observers<EventItem>('events'))
  fastify.decorate('ingest', {
    // The row (payload hash, storable JSON) is prepared here, in the request, not in the batch.
    recordSignal: async (incoming) => await signals.submit(signalRow({ ...incoming, owner: providerOwner })),
    storeEvent: async (item) => await events.submit(item),
    signals,
    events
  })
  fastify.addHook('onClose', async () => { await Promise.all([signals.close(), events.close()]) })
}

export default fp(ingestPlugin, { name: 'loop-ingest', dependencies: ['loop-config', 'loop-database', 'loop-metrics', 'loop-tracing'], fastify: '5.x' })
