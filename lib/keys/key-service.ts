// Brands and API keys in the database: every query and transaction on them lives here. Routes,
// the auth plugin, the CLI and tests call these with an EntityManager (a fork per request).
import { randomUUID } from 'node:crypto'
import type { EntityManager, InferEntity } from '@mikro-orm/core'
import type { components } from '../../generated/openapi.ts'
import { ApiKey, Brand } from '../db/entities/index.ts'
import { notFound, unauthorized } from '../errors.ts'
import { generateApiKey, hashApiKey, parseApiKey, visiblePrefix, type KeyEnv, type KeyTier, type Scope } from './api-key.ts'

export type ApiKeyRow = InferEntity<typeof ApiKey>
export type ApiKeyView = components['schemas']['ApiKey']
export type ApiKeyWithSecret = components['schemas']['ApiKeyWithSecret']
export type BrandView = components['schemas']['Brand']

export interface NewKey {
  name: string
  env: KeyEnv
  scopes: Scope[]
  tier?: KeyTier
  brandId?: string | null
}

/** What a brand's first key gets unless the request says otherwise: an integrator's scopes, not admin. */
export const defaultBrandKeyScopes: Scope[] = ['events:write', 'events:read', 'schemas:write', 'webhooks:manage']

const iso = (date: Date | null | undefined) => (date === null || date === undefined ? null : date.toISOString())

export function toApiKeyView (row: ApiKeyRow): ApiKeyView {
  return {
    id: row.id,
    name: row.name,
    env: row.env,
    scopes: row.scopes,
    tier: row.tier,
    brandId: row.brand ?? null,
    prefix: row.prefix,
    lastUsedAt: iso(row.lastUsedAt),
    revokedAt: iso(row.revokedAt),
    createdAt: row.createdAt.toISOString()
  }
}

function insertKey (em: EntityManager, input: NewKey): ApiKeyWithSecret {
  const { secret, hash, prefix } = generateApiKey(input.env)
  const row = em.create(ApiKey, {
    id: randomUUID(),
    name: input.name,
    env: input.env,
    scopes: input.scopes,
    tier: input.tier ?? 'standard',
    brand: input.brandId ?? null,
    keyHash: hash,
    prefix,
    lastUsedAt: null,
    revokedAt: null,
    createdAt: new Date()
  })
  return { ...toApiKeyView(row), secret }
}

/** A new key; its secret is in the result and nowhere else. 404 when `brandId` names no brand. */
export async function createKey (em: EntityManager, input: NewKey): Promise<ApiKeyWithSecret> {
  return await em.transactional(async (tx) => {
    if (input.brandId != null && await tx.findOne(Brand, input.brandId) === null) {
      throw notFound(`Brand ${input.brandId} not found`)
    }
    return insertKey(tx, input)
  })
}

/** A brand and its first key, committed together. */
export async function createBrand (em: EntityManager, input: { name: string, key?: Partial<Omit<NewKey, 'brandId'>> }): Promise<{ brand: BrandView, key: ApiKeyWithSecret }> {
  return await em.transactional(async (tx) => {
    const brand = tx.create(Brand, { id: randomUUID(), name: input.name, createdAt: new Date() })
    const key = insertKey(tx, {
      name: input.key?.name ?? `${input.name} key`,
      env: input.key?.env ?? 'live',
      scopes: input.key?.scopes ?? defaultBrandKeyScopes,
      tier: input.key?.tier ?? 'standard',
      brandId: brand.id
    })
    return { brand: { id: brand.id, name: brand.name, createdAt: brand.createdAt.toISOString() }, key }
  })
}

export interface BrandSummary extends BrandView { activeKeys: number }

/** Every brand, newest first, with its count of unrevoked keys (one grouped query). */
export async function listBrands (em: EntityManager): Promise<BrandSummary[]> {
  const rows: { id: string, name: string, created_at: Date, active_keys: number }[] = await em.getConnection().execute(
    `select b.id, b.name, b.created_at, count(k.id) filter (where k.revoked_at is null)::int as active_keys
       from brands b left join api_keys k on k.brand_id = b.id
      group by b.id order by b.created_at desc, b.id desc`, [], 'all'
  )
  return rows.map((row) => ({ id: row.id, name: row.name, createdAt: new Date(row.created_at).toISOString(), activeKeys: row.active_keys }))
}

/** Every key (revoked ones too), newest first; never a secret or a hash. */
export async function listKeys (em: EntityManager, filter: { brandId?: string } = {}): Promise<ApiKeyView[]> {
  const rows = await em.find(ApiKey, filter.brandId === undefined ? {} : { brand: filter.brandId }, { orderBy: { createdAt: 'desc', id: 'desc' } })
  return rows.map(toApiKeyView)
}

/** Revokes the key; revoking twice keeps the first revokedAt. 404 when no key has this id. */
export async function revokeKey (em: EntityManager, id: string): Promise<ApiKeyView> {
  return await em.transactional(async (tx) => {
    // One conditional UPDATE: concurrent revocations cannot overwrite each other's timestamp.
    await tx.nativeUpdate(ApiKey, { id, revokedAt: null }, { revokedAt: new Date() })
    const row = await tx.findOne(ApiKey, id, { refresh: true })
    if (row === null) throw notFound(`API key ${id} not found`)
    return toApiKeyView(row)
  })
}

/** The key whose secret hashes to `hash`, revoked or not (one lookup on the unique index). */
export async function findKeyByHash (em: EntityManager, hash: string): Promise<ApiKeyRow | null> {
  return await em.findOne(ApiKey, { keyHash: hash })
}

/** Who a request is: what `request.apiKey` holds on routes that declare bearer security. */
export interface AuthenticatedKey {
  id: string
  name: string
  env: KeyEnv
  scopes: Scope[]
  tier: KeyTier
  brandId: string | null
  prefix: string
  lastUsedAt: Date | null
}

// RFC 6750: a 401 for a Bearer-protected resource says how to authenticate.
const missingChallenge = { 'www-authenticate': 'Bearer realm="loop"' }
const invalidChallenge = { 'www-authenticate': 'Bearer realm="loop", error="invalid_token"' }

/**
 * The key a request presents, or a 401. The database is asked by the SHA-256 of the presented
 * key, so the lookup never compares the secret itself; a malformed key is refused without a query.
 * Nothing here is cached: a revocation is seen by the very next request, on every instance.
 */
export async function authenticateKey (em: EntityManager, presented: string | null): Promise<AuthenticatedKey> {
  if (presented === null) throw unauthorized('Missing API key: send Authorization: Bearer <key>', missingChallenge)
  const row = parseApiKey(presented) === null ? null : await findKeyByHash(em, hashApiKey(presented))
  if (row === null) throw unauthorized('Invalid API key', invalidChallenge)
  if (row.revokedAt != null) throw unauthorized('This API key has been revoked', invalidChallenge)
  return {
    id: row.id,
    name: row.name,
    env: row.env,
    scopes: row.scopes,
    tier: row.tier,
    brandId: row.brand ?? null,
    prefix: row.prefix,
    lastUsedAt: row.lastUsedAt ?? null
  }
}

/** Records use; a no-op when another request (on any instance) recorded it less than `minGapMs` ago. */
export async function touchKey (em: EntityManager, id: string, now: Date, minGapMs: number): Promise<void> {
  const before = new Date(now.getTime() - minGapMs)
  await em.nativeUpdate(ApiKey, { id, $or: [{ lastUsedAt: null }, { lastUsedAt: { $lt: before } }] }, { lastUsedAt: now })
}

/**
 * Makes LOOP_ADMIN_KEY a working admin key: inserted by its hash if absent, left alone if present,
 * so restarts and instances starting together all converge on one row. A key revoked through the
 * API stays revoked (the caller warns).
 */
export async function ensureAdminKey (em: EntityManager, secret: string): Promise<{ id: string, revoked: boolean }> {
  const env = parseApiKey(secret)
  if (env === null) throw new Error('LOOP_ADMIN_KEY is not an lk_ API key')
  const keyHash = hashApiKey(secret)
  await em.upsert(ApiKey, {
    id: randomUUID(),
    name: 'LOOP_ADMIN_KEY',
    env,
    scopes: ['admin'],
    tier: 'standard',
    brand: null,
    keyHash,
    prefix: visiblePrefix(secret),
    lastUsedAt: null,
    revokedAt: null,
    createdAt: new Date()
  }, { onConflictFields: ['keyHash'], onConflictAction: 'ignore' })
  const row = await em.findOneOrFail(ApiKey, { keyHash }, { refresh: true })
  return { id: row.id, revoked: row.revokedAt != null }
}
