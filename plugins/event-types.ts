// Exposes the event type registry (lib/events/registry.ts) as `fastify.eventTypes`.
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { EventTypeRegistry } from '../lib/events/registry.ts'

declare module 'fastify' {
  interface FastifyInstance {
    eventTypes: EventTypeRegistry
  }
}

async function eventTypesPlugin (fastify: FastifyInstance): Promise<void> {
  fastify.decorate('eventTypes', new EventTypeRegistry())
}

export default fp(eventTypesPlugin, { name: 'loop-event-types', dependencies: ['loop-database'], fastify: '5.x' })
