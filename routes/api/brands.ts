// POST /api/brands: a brand and its first API key (admin; also the MCP tool brands.create).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { createBrand as createBrandOp } from '../../generated/operations.ts'
import { createBrand } from '../../lib/keys/key-service.ts'

const brands: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.route({
    ...createBrandOp,
    handler: async (request, reply) => {
      const created = await createBrand(request.em, request.body)
      return reply.code(201).send({ ok: true as const, ...created })
    }
  })
}

export default brands
