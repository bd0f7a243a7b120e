// A signal as the API shows it (components.schemas.Signal); the payload only when one is read.
import type { components } from '../../generated/openapi.ts'
import type { Signal } from '../db/entities/signal.ts'

export type SignalResource = components['schemas']['Signal']

export function toSignalResource (signal: Signal, issueId: string, options: { payload: boolean }): SignalResource {
  return {
    id: signal.id,
    source: signal.source,
    type: signal.type,
    severity: signal.severity,
    sourceId: signal.sourceId ?? null,
    deliveryId: signal.deliveryId ?? null,
    payloadHash: signal.payloadHash,
    issueId,
    ...(options.payload ? { payload: signal.payload } : {}),
    createdAt: signal.createdAt.toISOString()
  }
}
