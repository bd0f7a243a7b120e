// What a signal is before it is written (docs/signals.md#receiving-a-delivery): the row a verified
// delivery (or one of Loop's alerts) becomes, with its triage issue's columns. lib/ingest/signal-batch.ts
// writes it, the signal and its issue in one statement, so no signal ever exists without its
// issue; a redelivery creates nothing and returns the ids recorded the first time.
import { createHash } from 'node:crypto'
import type { SignalSource } from '../db/entities/signal.ts'
import { priorityFromSeverity, type SignalMapping } from '../severity/signal-mapping.ts'
import type { Owner } from '../tenancy/caller.ts'

export interface IncomingSignal {
  source: SignalSource
  /** Whose it is: the operator's live rows for provider webhooks (providerOwner), an endpoint's owner for Loop's alerts. */
  owner: Owner
  /** The provider's delivery id when it sends one (X-GitHub-Delivery, Sentry Request-ID). */
  deliveryId: string | undefined
  /** The body exactly as received. */
  raw: Buffer
  mapping: SignalMapping
}

export interface RecordedSignal {
  signalId: string
  issueId: string
  duplicate: boolean
}

// Bounds the table's checks enforce; a provider's text beyond them is clipped or dropped here
// rather than turning a valid delivery into a 500 that the provider would retry forever.
const maxTypeLength = 200
const maxSourceIdLength = 500

// jsonb cannot hold U+0000 and PostgreSQL rejects the \u0000 escape, so such a payload could never
// be stored. Only that escape (not an escaped backslash followed by "u0000") becomes \ufffd; the
// payload hash still covers the bytes as received.
const nulEscape = /(?<!\\)((?:\\\\)*)\\u0000/g

export function storableJson (raw: Buffer): string {
  const text = raw.toString('utf8')
  return text.includes('\\u0000') ? text.replace(nulEscape, '$1\\ufffd') : text
}

/** The columns of a signal and its triage issue, as both ingestion paths insert them. */
export interface SignalRow {
  source: SignalSource
  type: string
  severity: SignalMapping['severity']
  sourceId: string | null
  deliveryId: string | null
  payload: string
  payloadHash: string
  priority: 1 | 2 | 3 | 4
  title: string
  description: string | null
  brandId: string | null
  env: Owner['env']
}

export function signalRow (incoming: IncomingSignal): SignalRow {
  const { source, deliveryId, raw, mapping, owner } = incoming
  return {
    brandId: owner.brandId,
    env: owner.env,
    source,
    type: mapping.type.slice(0, maxTypeLength),
    severity: mapping.severity,
    sourceId: mapping.sourceId !== undefined && mapping.sourceId.length <= maxSourceIdLength ? mapping.sourceId : null,
    deliveryId: deliveryId ?? null,
    payload: storableJson(raw),
    payloadHash: createHash('sha256').update(raw).digest('hex'),
    priority: priorityFromSeverity(mapping.severity),
    title: mapping.title,
    description: mapping.description ?? null
  }
}
