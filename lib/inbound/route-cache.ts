// Inbound routes by webhookPath, compiled once (transform included) and cached. Declarations
// NOTIFY `loop_inbound_routes` in their transaction; every instance LISTENs (plugins/inbound-routes.ts)
// and drops the entry, so a new or changed route takes effect everywhere without a restart.
import type { EntityManager } from '@mikro-orm/postgresql'
import { ChangeGuard } from '../cache/change-guard.ts'
import { InboundRoute } from '../db/entities/inbound-route.ts'
import { builtinTransformFor, type BuiltinTransform, type InboundSource } from '../transforms/builtin.ts'
import { compileTransform, type CompiledTransform, type TransformSpec } from '../transforms/jsonpath-transform.ts'

export const inboundRoutesChannel = 'loop_inbound_routes'

export interface CompiledRoute {
  id: string
  eventType: string
  source: InboundSource
  webhookPath: string
  secret: string | null
  keyId: string | null
  brandId: string | null
  env: 'live' | 'test' | 'dev'
  /** The user's transform, or the source's built-in one; null: the body is the event payload. */
  transform: CompiledTransform | null
  builtin: BuiltinTransform | null
}

export interface RouteRow {
  id: string
  eventType: string
  source: InboundSource
  webhookPath: string
  transform?: Record<string, unknown> | null
  secret?: string | null
  keyId?: string | null
  brandId?: string | null
  env: string
}

export function compileRoute (row: RouteRow): CompiledRoute {
  const builtin = row.transform == null ? builtinTransformFor(row.source, row.eventType) : null
  const spec: TransformSpec | null = row.transform ?? builtin?.transform ?? null
  return {
    id: row.id,
    eventType: row.eventType,
    source: row.source,
    webhookPath: row.webhookPath,
    secret: row.secret ?? null,
    keyId: row.keyId ?? null,
    brandId: row.brandId ?? null,
    env: row.env as CompiledRoute['env'],
    transform: spec === null ? null : compileTransform(spec),
    builtin
  }
}

export class InboundRouteCache {
  private readonly routes = new Map<string, CompiledRoute>()
  private readonly guard = new ChangeGuard()

  async get (em: EntityManager, webhookPath: string): Promise<CompiledRoute | null> {
    const cached = this.routes.get(webhookPath)
    if (cached !== undefined) return cached
    const keep = this.guard.begin()
    // Secrets are `hidden` for serialization only; the verifier needs this one.
    const row = await em.findOne(InboundRoute, { webhookPath }, { disableIdentityMap: true })
    if (row === null) return null
    const route = compileRoute(row)
    if (keep()) this.routes.set(webhookPath, route)
    return route
  }

  invalidate (webhookPath: string): void {
    this.guard.changed()
    this.routes.delete(webhookPath)
  }

  /** Changes may go unannounced from now on (the listening connection dropped): keep nothing. */
  suspend (): void {
    this.guard.suspend()
    this.routes.clear()
  }

  /** Changes are announced again; anything kept before may have missed one. */
  resume (): void {
    this.routes.clear()
    this.guard.resume()
  }
}
