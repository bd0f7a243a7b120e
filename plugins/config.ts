// Exposes the validated configuration (lib/config.ts) as `fastify.config`.
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import type { Config } from '../lib/config.ts'

declare module 'fastify' {
  interface FastifyInstance {
    config: Config
  }
}

async function configPlugin (fastify: FastifyInstance, options: { config: Config }): Promise<void> {
  fastify.decorate('config', options.config)
}

export default fp(configPlugin, { name: 'loop-config', fastify: '5.x' })
