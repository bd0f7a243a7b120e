// /api/brands (admin, so the operator): list brands; POST creates a brand and its first API key
// in the caller's env (also the MCP tool brands_create); POST /api/brands/{id}/portal makes a
// brand's portal link (lib/portal/portal-link.ts), and DELETE ends every working one of them.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { createBrand as createBrandOp, createPortalLink as createPortalLinkOp, listBrands as listBrandsOp, revokePortalLinks as revokePortalLinksOp } from '../../generated/operations.ts'
import { createBrand, listBrands } from '../../lib/keys/key-service.ts'
import { createPortalLink, revokePortalLinks } from '../../lib/portal/portal-link.ts'

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

  fastify.route({
    ...createPortalLinkOp,
    handler: async (request, reply) => {
      const link = await createPortalLink(request.em, request.params.id, request.caller.env, request.body.expiresInSeconds)
      request.log.info({ portalLinkId: link.id, brandId: request.params.id, keyId: request.caller.keyId, expiresAt: link.expiresAt }, 'portal link made')
      // The token goes after `#`: browsers send neither it to the server nor it in a Referer.
      const url = `${request.protocol}://${request.host}/admin/portal#${link.token}`
      return reply.code(201).send({ id: link.id, url, expiresAt: link.expiresAt.toISOString() })
    }
  })

  fastify.route({
    ...revokePortalLinksOp,
    handler: async (request, reply) => {
      const revoked = await revokePortalLinks(request.em, request.params.id, request.caller.env)
      request.log.info({ brandId: request.params.id, keyId: request.caller.keyId, revoked }, 'portal links ended')
      return await reply.code(204).send(null)
    }
  })
}

export default brands
