// POST /api/signals/sentry (docs/signals.md#sentry): Sentry webhooks, verified by
// Sentry-Hook-Signature over the raw bytes (or their JSON.stringify form), become a signal and a
// triage issue. Encapsulated: its raw-body capture and signature hook apply to this route only.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import rawBody from 'fastify-raw-body'
import { receiveSentrySignal } from '../../../generated/operations.ts'
import { unauthorized } from '../../../lib/errors.ts'
import { severityFromSentry } from '../../../lib/severity/sentry.ts'
import { signedSentryBody } from '../../../lib/signing/sentry.ts'
import { assertJsonObject, rawBodyOf, rawBodyOptions, requireSecret, signalReceipt } from './webhook-request.ts'

const secretVariable = 'SENTRY_CLIENT_SECRET'

const sentry: FastifyPluginAsyncTypebox = async (fastify) => {
  const secret = fastify.config.secrets.sentry
  // Bytes, not text: Sentry signs the exact bytes it sends (\uXXXX escapes, 1.0 floats).
  await fastify.register(rawBody, rawBodyOptions)

  fastify.addHook('onRequest', async () => { requireSecret(secret, secretVariable) })
  fastify.addHook('preValidation', async (request) => {
    const header = request.headers['sentry-hook-signature']
    if (typeof header !== 'string') throw unauthorized('Missing Sentry-Hook-Signature header')
    const signed = signedSentryBody(rawBodyOf(request), header, requireSecret(secret, secretVariable))
    if (signed === null) throw unauthorized('Sentry-Hook-Signature does not match the body')
    // From here on the body is the bytes the signature covers: the canonical form, when that is
    // what verified, so no digit the signature did not cover is stored (or hashed).
    request.rawBody = signed
    assertJsonObject(request.body)
  })

  fastify.route({
    ...receiveSentrySignal,
    config: { rawBody: true },
    handler: async (request, reply) => {
      const recorded = await fastify.ingest.recordSignal({
        source: 'sentry',
        deliveryId: request.headers['request-id'],
        raw: rawBodyOf(request),
        mapping: severityFromSentry(request.body, request.headers['sentry-hook-resource'])
      })
      return await reply.code(recorded.duplicate ? 200 : 201).send(signalReceipt(recorded))
    }
  })
}

export default sentry
