// Typeform (form submissions): `Typeform-Signature: sha256=<base64 HMAC>`; event_id identifies a delivery.
import { verifyTypeformSignature } from '../../lib/signing/inbound.ts'
import { inboundSource } from './inbound-source.ts'

export default inboundSource({
  source: 'typeform',
  url: '/webhooks/typeform/*',
  verify: verifyTypeformSignature,
  topic: (_headers, payload) => (typeof payload.event_type === 'string' ? payload.event_type : undefined),
  dedupeKey: (_headers, payload) => (typeof payload.event_id === 'string' ? payload.event_id : null)
})
