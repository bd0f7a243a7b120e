// Idempotency-Key on every POST under /api that declares it (docs/api.md#idempotency): the first
// request with a key runs and its 2xx answer is kept for 24 hours; the same key with the same
// operation and body replays that answer with `Idempotent-Replayed: true`; with another body it is
// 422 IDEMPOTENCY_KEY_REUSED; while the first is still running, 409. Keys are per API key. A
// request that fails frees its key, so a retry runs again. Which routes take part is the
// contract's to say: a POST whose generated schema lists the `Idempotency-Key` header.
import fp from 'fastify-plugin'
import type { FastifyInstance, FastifyReply, FastifyRequest, onSendHookHandler, preHandlerHookHandler } from 'fastify'
import { claimIdempotencyKeys, completeIdempotencyKey, idempotencyScope, releaseIdempotencyKey, type IdempotencyClaim, type IdempotencyScope } from '../lib/idempotency/idempotency-key.ts'
import { GroupCommit } from '../lib/ingest/group-commit.ts'

declare module 'fastify' {
  interface FastifyRequest {
    /** The claimed Idempotency-Key of this request, or null; a service may record its answer in its own transaction. */
    idempotency: IdempotencyScope | null
  }
}

const header = 'idempotency-key'

function declaresKey (schema: unknown): boolean {
  const headers = (schema as { headers?: { properties?: Record<string, unknown> } } | undefined)?.headers
  return headers?.properties?.[header] !== undefined
}

async function idempotencyPlugin (fastify: FastifyInstance): Promise<void> {
  fastify.decorateRequest('idempotency', null)
  // Claims arriving together share one insert and one commit (lib/ingest/group-commit.ts).
  const claims = new GroupCommit<IdempotencyScope, IdempotencyClaim>(async (scopes) => await claimIdempotencyKeys(fastify.orm.em.fork(), scopes), fastify.config.ingestBatch)
  fastify.addHook('onClose', async () => { await claims.close() })

  const claim: preHandlerHookHandler = async function (request: FastifyRequest, reply: FastifyReply) {
    const key = request.headers[header]
    if (typeof key !== 'string') return
    const operation = `${request.method} ${request.url}`
    const scope = idempotencyScope(request.caller.keyId, key, { operation, body: request.body })
    const claimed = await claims.submit(scope)
    if (claimed.kind === 'replay') {
      reply.header('idempotent-replayed', 'true').code(claimed.status)
      // The recorded text is sent as it was (a string is not serialized again): byte for byte the first answer.
      if (claimed.body === '') return await reply.send(null)
      return await reply.type('application/json; charset=utf-8').send(claimed.body)
    }
    request.idempotency = scope
  }

  const record: onSendHookHandler = async function (request, reply, payload) {
    const scope = request.idempotency
    if (scope === null) return payload
    request.idempotency = null
    if (reply.statusCode >= 200 && reply.statusCode < 300) {
      await completeIdempotencyKey(request.em, scope, reply.statusCode, typeof payload === 'string' ? payload : '')
    } else {
      await releaseIdempotencyKey(request.em, scope)
    }
    return payload
  }

  fastify.addHook('onRoute', (route) => {
    if (route.method !== 'POST' || !route.url.startsWith('/api/') || !declaresKey(route.schema)) return
    route.preHandler = [...(route.preHandler === undefined ? [] : [route.preHandler].flat()), claim]
    route.onSend = [record, ...(route.onSend === undefined ? [] : [route.onSend].flat())]
  })
}

export default fp(idempotencyPlugin, { name: 'loop-idempotency', dependencies: ['loop-config', 'loop-database', 'loop-auth'], fastify: '5.x' })
