// One outbound message: what happened, serialized once into the exact bytes every attempt sends
// and signs.

export type MessageEnv = 'live' | 'test' | 'dev'

export interface OutboundMessage {
  /** The body's `id` and the `webhook-id` header: for a stored event, the event's own id. */
  id: string
  type: string
  /** RFC 3339. */
  createdAt: string
  /**
   * `data` as JSON text, embedded verbatim: an event's payload keeps every digit it arrived with.
   * A function is only called when some endpoint receives the message (nothing to load otherwise).
   */
  dataJson: string | (() => Promise<string>)
  /** live goes to live endpoints, test to test endpoints, dev nowhere. */
  env: MessageEnv
  /** The owning brand; null for the operator's rows (provider signals and their issues, brandless keys' events). */
  brandId: string | null
  /** An endpoint that must not receive this message (a failing endpoint is not told about itself). */
  excludeEndpointId?: string
}

/** `{"id":…,"type":…,"createdAt":…,"data":…}`, with `data` copied in as text, never re-serialized. */
export function messageBody (message: Pick<OutboundMessage, 'id' | 'type' | 'createdAt'> & { dataJson: string }): string {
  return `{"id":${JSON.stringify(message.id)},"type":${JSON.stringify(message.type)},"createdAt":${JSON.stringify(message.createdAt)},"data":${message.dataJson}}`
}
