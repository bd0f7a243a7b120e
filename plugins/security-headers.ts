// Browser-facing security headers on every response (pages, API and error envelopes alike) with
// @fastify/helmet: X-Content-Type-Options: nosniff, Referrer-Policy: no-referrer and helmet's other
// defaults, less two that are not Loop's to set globally (below).
import fp from 'fastify-plugin'
import helmet from '@fastify/helmet'
import type { FastifyInstance } from 'fastify'

async function securityHeadersPlugin (fastify: FastifyInstance): Promise<void> {
  await fastify.register(helmet, {
    // Each page sends its own policy: /admin a strict one (routes/admin.ts), /docs the one
    // swagger-ui needs (plugins/docs.ts). A global policy would break the latter.
    contentSecurityPolicy: false,
    // HTTPS is the operator's proxy's business; HSTS for every subdomain for a year is its call.
    strictTransportSecurity: false,
    referrerPolicy: { policy: 'no-referrer' }
  })
}

export default fp(securityHeadersPlugin, { name: 'loop-security-headers', fastify: '5.x' })
