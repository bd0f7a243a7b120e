// /api/brands (admin, so the operator): list brands; POST creates a brand and its first API key
// in the caller's env (also the MCP tool brands_create).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { createBrand as createBrandOp, listBrands as listBrandsOp } from '../../generated/operations.ts'
import { createBrand, listBrands } from '../../lib/keys/key-service.ts'

const brands: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.route({
    ...listBrandsOp,
    handler: async (request) => await listBrands(request.em, request.caller.env, request.query)
  })

  fastify.route({
    ...createBrandOp,
    handler: async (request, reply) => {
      const created = await createBrand(request.em, request.body, request.caller)
      return reply.code(201).send(created)
    }
  })
}

export default brands
