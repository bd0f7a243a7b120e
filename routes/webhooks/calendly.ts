// Calendly (bookings): `Calendly-Webhook-Signature: t=…,v1=…` over "t.body", 3-minute window;
// a delivery is identified by its event name and the invitee URI.
import { verifyCalendlySignature } from '../../lib/signing/inbound.ts'
import { inboundSource } from './inbound-source.ts'

export default inboundSource({
  source: 'calendly',
  url: '/webhooks/calendly/*',
  verify: (raw, headers, secret) => verifyCalendlySignature(raw, headers, secret),
  topic: (_headers, payload) => (typeof payload.event === 'string' ? payload.event : undefined),
  dedupeKey: (_headers, payload) => {
    const uri = (payload.payload as { uri?: unknown } | undefined)?.uri
    return typeof payload.event === 'string' && typeof uri === 'string' ? `${payload.event}:${uri}` : null
  }
})
