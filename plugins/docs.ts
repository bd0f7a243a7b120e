// The contract, served: `/openapi.json` is openapi/loop.yaml as JSON, `/docs` an interactive
// Swagger UI over the same document (assets served locally; no CDN needed).
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import { loadContract } from '../lib/contract/openapi.ts'

async function docsPlugin (fastify: FastifyInstance): Promise<void> {
  const { document } = await loadContract()
  await fastify.register(swagger, { mode: 'static', specification: { document: document as never } })
  await fastify.register(swaggerUi, {
    routePrefix: '/docs',
    uiConfig: { deepLinking: true, docExpansion: 'list', tryItOutEnabled: true, displayRequestDuration: true },
    staticCSP: true
  })
  const body = JSON.stringify(document)
  fastify.get('/openapi.json', { schema: { hide: true } }, async (_request, reply) => {
    return reply.type('application/json; charset=utf-8').send(body)
  })
}

export default fp(docsPlugin, { name: 'loop-docs', fastify: '5.x' })
