// POST /api/signals/posthog (docs/signals.md#posthog): PostHog webhooks, authenticated by the
// shared secret in X-PostHog-Secret, become a signal and a triage issue. Encapsulated: its
// raw-body capture and secret hook apply to this route only.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import rawBody from 'fastify-raw-body'
import { receivePosthogSignal } from '../../../generated/operations.ts'
import { unauthorized } from '../../../lib/errors.ts'
import { severityFromPosthog } from '../../../lib/severity/posthog.ts'
import { verifyPosthogSecret } from '../../../lib/signing/posthog.ts'
import { assertJsonObject, rawBodyOf, rawBodyOptions, requireSecret, signalReceipt } from './webhook-request.ts'

const secretVariable = 'POSTHOG_WEBHOOK_SECRET'

const posthog: FastifyPluginAsyncTypebox = async (fastify) => {
  const secret = fastify.config.secrets.posthog
  // PostHog signs nothing, but the raw bytes are what gets stored (and hashed for dedupe, since
  // PostHog sends no delivery id), so they are captured exactly as for the HMAC providers.
  await fastify.register(rawBody, rawBodyOptions)

  fastify.addHook('onRequest', async () => { requireSecret(secret, secretVariable) })
  fastify.addHook('preValidation', async (request) => {
    const header = request.headers['x-posthog-secret']
    if (typeof header !== 'string') throw unauthorized('Missing X-PostHog-Secret header')
    if (!verifyPosthogSecret(header, requireSecret(secret, secretVariable))) {
      throw unauthorized('X-PostHog-Secret does not match')
    }
    assertJsonObject(request.body)
  })

  fastify.route({
    ...receivePosthogSignal,
    config: { rawBody: true },
    handler: async (request, reply) => {
      const recorded = await fastify.ingest.recordSignal({
        source: 'posthog',
        deliveryId: undefined,
        raw: rawBodyOf(request),
        mapping: severityFromPosthog(request.body)
      })
      return await reply.code(recorded.duplicate ? 200 : 201).send(signalReceipt(recorded))
    }
  })
}

export default posthog
