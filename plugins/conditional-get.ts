// Conditional GET for the API (RFC 9110 section 13.1.2): every 200 answer to a GET under /api/
// carries a strong ETag of its body, and a request whose If-None-Match names it gets 304 with no
// body. Pollers (the admin console's live board and delivery log) then move a few headers when
// nothing changed. The X-RateLimit-* headers are already set and stay on the 304.
//
// Not @fastify/etag: it tags every response and answers 304 whatever the method and status, so
// a client repeating an ETag could get 304 for a POST or in place of a 401 error envelope.
import fp from 'fastify-plugin'
import { createHash } from 'node:crypto'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'

export function entityTag (body: string | Buffer): string {
  return `"${createHash('sha1').update(body).digest('base64url')}"`
}

/** Weak comparison, as If-None-Match requires: `W/"x"` matches `"x"`; `*` matches anything. */
export function noneMatch (header: string | undefined, tag: string): boolean {
  if (header === undefined) return true
  const opaque = (value: string) => value.trim().replace(/^W\//, '')
  return !header.split(',').some((candidate) => candidate.trim() === '*' || opaque(candidate) === opaque(tag))
}

function conditional (request: FastifyRequest, reply: FastifyReply): boolean {
  return request.method === 'GET' && reply.statusCode === 200 && request.url.startsWith('/api/')
}

async function conditionalGetPlugin (fastify: FastifyInstance): Promise<void> {
  fastify.addHook('onSend', async (request, reply, payload) => {
    if (!conditional(request, reply)) return payload
    if (!(typeof payload === 'string' || Buffer.isBuffer(payload))) return payload
    const tag = entityTag(payload)
    reply.header('etag', tag)
    if (noneMatch(request.headers['if-none-match'], tag)) return payload
    reply.code(304)
    return ''
  })
}

export default fp(conditionalGetPlugin, { name: 'loop-conditional-get', fastify: '5.x' })
