// The app-wide application/json parser: Fastify's own (secure-json-parse, refusing __proto__ and
// constructor.prototype keys as Fastify's onProtoPoisoning/onConstructorPoisoning say) behind a
// nesting limit, LOOP_JSON_MAX_DEPTH, checked on the bytes before anything parses or walks them.
import fp from 'fastify-plugin'
import { errorCodes, type FastifyInstance } from 'fastify'
import { parse as secureJsonParse } from 'secure-json-parse'
import { exceedsNesting, nestedTooDeep } from '../lib/json/nesting.ts'

async function jsonBodyPlugin (fastify: FastifyInstance): Promise<void> {
  const maxDepth = fastify.config.jsonMaxDepth
  const { onProtoPoisoning, onConstructorPoisoning } = fastify.initialConfig
  const options = { protoAction: onProtoPoisoning, constructorAction: onConstructorPoisoning }

  fastify.removeContentTypeParser('application/json')
  // Buffers: the depth scan reads bytes, and secure-json-parse decodes UTF-8 itself (BOM included).
  fastify.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_request, body: Buffer, done) => {
    if (body.length === 0) return done(new errorCodes.FST_ERR_CTP_EMPTY_JSON_BODY(), undefined)
    if (exceedsNesting(body, maxDepth)) return done(nestedTooDeep(maxDepth), undefined)
    let parsed: unknown
    try {
      parsed = secureJsonParse(body, options)
    } catch {
      return done(new errorCodes.FST_ERR_CTP_INVALID_JSON_BODY(), undefined)
    }
    done(null, parsed)
  })
}

export default fp(jsonBodyPlugin, { name: 'loop-json-body', dependencies: ['loop-config'], fastify: '5.x' })
