// A signal as the API shows it (components.schemas.Signal); the payload only when one is read.
import type { components } from '../../generated/openapi.ts'
import type { Signal } from '../db/entities/signal.ts'

export type SignalResource = components['schemas']['Signal']

/** What the resource is made of: an entity, or the columns a batch insert returned (lib/ingest). */
export type SignalFields = Pick<Signal, 'id' | 'source' | 'type' | 'severity' | 'sourceId' | 'deliveryId' | 'payloadHash' | 'brandId' | 'env' | 'createdAt'> & Partial<Pick<Signal, 'payload'>>

export function toSignalResource (signal: SignalFields, issueId: string, options: { payload: boolean }): SignalResource {
  return {
    id: signal.id,
    source: signal.source,
    type: signal.type,
    severity: signal.severity,
    sourceId: signal.sourceId ?? null,
    deliveryId: signal.deliveryId ?? null,
    payloadHash: signal.payloadHash,
    issueId,
    brandId: signal.brandId ?? null,
    env: signal.env,
    ...(options.payload ? { payload: signal.payload } : {}),
    createdAt: signal.createdAt.toISOString()
  }
}
