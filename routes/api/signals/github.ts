// POST /api/signals/github (docs/signals.md#github): GitHub webhooks, verified by X-Hub-Signature-256
// over the raw bytes, become a signal and a triage issue. Encapsulated: its raw-body capture and
// signature hook apply to this route only, so no other secret can ever verify it.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import rawBody from 'fastify-raw-body'
import { receiveGithubSignal } from '../../../generated/operations.ts'
import { unauthorized } from '../../../lib/errors.ts'
import { severityFromGithub } from '../../../lib/severity/github.ts'
import { verifyGithubSignature } from '../../../lib/signing/github.ts'
import { assertJsonObject, rawBodyOf, rawBodyOptions, requireSecret, signalReceipt } from './webhook-request.ts'

const secretVariable = 'GITHUB_WEBHOOK_SECRET'

const github: FastifyPluginAsyncTypebox = async (fastify) => {
  const secret = fastify.config.secrets.github
  // Bytes, not text: a UTF-8 round trip would drop a BOM or rewrite invalid sequences, and the
  // HMAC must cover exactly what GitHub signed. runFirst captures them before anything else reads.
  await fastify.register(rawBody, rawBodyOptions)

  // Unconfigured: refused before the body is even read.
  fastify.addHook('onRequest', async () => { requireSecret(secret, secretVariable) })
  // preValidation runs after parsing but before the schema or the handler look at the body.
  fastify.addHook('preValidation', async (request) => {
    const header = request.headers['x-hub-signature-256']
    if (typeof header !== 'string') throw unauthorized('Missing X-Hub-Signature-256 header')
    if (!verifyGithubSignature(rawBodyOf(request), header, requireSecret(secret, secretVariable))) {
      throw unauthorized('X-Hub-Signature-256 does not match the body')
    }
    assertJsonObject(request.body)
  })

  fastify.route({
    ...receiveGithubSignal,
    config: { rawBody: true },
    handler: async (request, reply) => {
      const event = request.headers['x-github-event'] ?? ''
      // GitHub pings a webhook when it is created: acknowledged, nothing recorded.
      if (event === 'ping') return { ok: true as const, event: 'ping' as const }
      const recorded = await fastify.ingest.recordSignal({
        source: 'github',
        deliveryId: request.headers['x-github-delivery'],
        raw: rawBodyOf(request),
        mapping: severityFromGithub(event, request.body)
      })
      return await reply.code(recorded.duplicate ? 200 : 201).send(signalReceipt(recorded))
    }
  })
}

export default github
