// The contract, served: `/openapi.json` is openapi/loop.yaml as JSON, `/docs` an interactive
// Swagger UI over the same document (assets served locally; no CDN needed).
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import { loadContract } from '../lib/contract/openapi.ts'

// The document as JSON text, made once per process (the contract is parsed once too).
let served: string | undefined

async function docsPlugin (fastify: FastifyInstance): Promise<void> {
  const { document } = await loadContract()
  await fastify.register(swagger, { mode: 'static', specification: { document: document as never } })
  await fastify.register(swaggerUi, {
    routePrefix: '/docs',
    uiConfig: { deepLinking: true, docExpansion: 'list', tryItOutEnabled: true, displayRequestDuration: true },
    // The page loads only its own files and calls only its own origin (the contract's server is
    // the relative `/`), wherever Loop is served. Unlike swagger-ui's `staticCSP: true` there is no
    // `upgrade-insecure-requests`, which turns the calls of a page served over plain http on any
    // host but localhost into https ones that fail, and nothing from `https:` or the validator.
    staticCSP: {
      'default-src': "'none'",
      'base-uri': "'self'",
      'connect-src': "'self'",
      'font-src': ["'self'", 'data:'],
      'form-action': "'self'",
      'frame-ancestors': "'self'",
      'img-src': ["'self'", 'data:'],
      'object-src': "'none'",
      'script-src': "'self'",
      'script-src-attr': "'none'",
      // Besides its stylesheets, only the <style> inside the top bar's Swagger logo (its hash; a
      // swagger-ui upgrade that changes it shows up as a CSP error in test/plugins/docs.test.ts).
      'style-src': ["'self'", "'sha256-RL3ie0nH+Lzz2YNqQN83mnU0J1ot4QL7b99vMdIX99w='"]
    }
  })
  const body = served ??= JSON.stringify(document)
  fastify.get('/openapi.json', { schema: { hide: true } }, async (_request, reply) => {
    return reply.type('application/json; charset=utf-8').send(body)
  })
}

export default fp(docsPlugin, { name: 'loop-docs', fastify: '5.x' })
