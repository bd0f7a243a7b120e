// Builds one source's inbound webhook plugin: encapsulated, with its own raw-body parser and
// signature hook, so a Shopify secret can never verify a Calendly request and no source's hook
// runs on another's routes. Bodies stay raw bytes until verified, then parse exactly once
// (lib/json/parse-exact.ts keeps 64-bit ids), which is why Fastify's JSON parser is replaced here.
import type { FastifyPluginAsync, FastifyRequest } from 'fastify'
import { receiveInboundWebhook } from '../../generated/operations.ts'
import { notConfigured, notFound, unauthorized } from '../../lib/errors.ts'
import type { CompiledRoute } from '../../lib/inbound/route-cache.ts'
import { receiveInbound, type Headers, type SourceRules } from '../../lib/inbound/receive.ts'
import { exceedsNesting, nestedTooDeep } from '../../lib/json/nesting.ts'
import type { InboundSource } from '../../lib/transforms/builtin.ts'

export interface InboundSourceDefinition extends SourceRules {
  source: InboundSource
  /** The URL pattern this source owns: `/webhooks/shopify/*`, or `/webhooks/*` for custom senders. */
  url: string
  verify: (raw: Buffer, headers: Headers, secret: string) => boolean
}

declare module 'fastify' {
  interface FastifyRequest {
    inboundRoute?: CompiledRoute
  }
}

// The contract documents the body and the `{path}` as one parameter; the router matches the rest
// of the path with a wildcard, and the body is validated after verification, as an event.
const { body: _documentedBody, params: _documentedPath, ...schema } = receiveInboundWebhook.schema

export function inboundSource (definition: InboundSourceDefinition): FastifyPluginAsync {
  return async (fastify) => {
    fastify.removeAllContentTypeParsers()
    // Kept as bytes, but the nesting limit still applies at parse time, as to every JSON body.
    const maxDepth = fastify.config.jsonMaxDepth
    fastify.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_request, body: Buffer, done) => {
      if (exceedsNesting(body, maxDepth)) done(nestedTooDeep(maxDepth), undefined)
      else done(null, body)
    })

    fastify.addHook('preHandler', async (request: FastifyRequest) => {
      const path = (request.url.split('?')[0] ?? '').replace(/\/+$/, '')
      const route = await fastify.inboundRoutes.get(request.em, path)
      if (route === null || route.source !== definition.source) throw notFound(`No inbound webhook is declared at ${path}`)
      if (route.secret === null) throw notConfigured(`${path} has no secret: declare one; unverified deliveries are never accepted`)
      if (!Buffer.isBuffer(request.body) || !definition.verify(request.body, request.headers, route.secret)) {
        throw unauthorized(`Missing or invalid ${definition.source} signature`)
      }
      request.inboundRoute = route
    })

    fastify.route({
      method: 'POST',
      url: definition.url,
      schema,
      handler: async (request) => {
        const route = request.inboundRoute as CompiledRoute
        return await receiveInbound(fastify.ingest.storeEvent, request.em, fastify.eventTypes, route, definition, request.body as Buffer, request.headers)
      }
    })
  }
}
