// Brands and API keys in the database: every query and transaction on them lives here. Routes,
// the auth plugin, the CLI and tests call these with an EntityManager (a fork per request).
// Keys are the operator's to manage (scope `admin`, held only by brandless keys), and keys are
// rows of an env like any other (docs/tenancy.md): an admin key creates, lists and revokes keys
// of its own env only, so no test or dev key can ever mint or see a live one.
// Keys are cached by hash on every instance (key-cache.ts): whatever changes an existing key calls
// `announceKeyChange` in its transaction. New keys need no announcement, as misses are never cached;
// `lastUsedAt` is not something authentication reads, so recording use announces nothing.
import { randomUUID } from 'node:crypto'
import type { InferEntity } from '@mikro-orm/core'
import type { EntityManager } from '@mikro-orm/postgresql'
import type { components } from '../../generated/openapi.ts'
import { ApiKey, Brand } from '../db/entities/index.ts'
import { notFound, unauthorized, validationError, type ValidationIssue } from '../errors.ts'
import type { Caller } from '../tenancy/caller.ts'
import { sql } from '../db/sql.ts'
import { newestFirst, type Page, type PageRequest } from '../pagination/cursor.ts'
import { keyChangesChannel, type CachedKey, type KeyCache } from './key-cache.ts'
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

/** A key request through the API: its env defaults to the caller's, and must be the caller's. */
export type KeyRequest = Omit<NewKey, 'env'> & { env?: KeyEnv | undefined }

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

/** `admin` is the operator's alone: a brand key holding it could see and mint every brand's keys. */
function adminIssues (scopes: readonly Scope[], forBrand: boolean, path: string): ValidationIssue[] {
  return forBrand && scopes.includes('admin')
    ? [{ path, message: 'admin is only for brandless (operator) keys; a brand key cannot hold it', code: 'invalid_enum_value' }]
    : []
}

// These issues are whole sentences: they are the message too.
const ruleBroken = (issues: ValidationIssue[]) => validationError(issues, issues.map((issue) => issue.message).join('; '))

function envIssues (env: KeyEnv | undefined, caller: Pick<Caller, 'env'>, path: string): ValidationIssue[] {
  return env === undefined || env === caller.env
    ? []
    : [{ path, message: `A ${caller.env} key creates ${caller.env} keys only (env is a wall); make a ${env} key with a ${env} admin key or \`npm run loop -- keys create --env ${env}\``, code: 'invalid_enum_value' }]
}

/**
 * A new key; its secret is in the result and nowhere else. 404 when `brandId` names no brand.
 * `caller` is the admin key asking (the CLI, the operator's own tool, passes none).
 */
export async function createKey (em: EntityManager, input: KeyRequest, caller?: Pick<Caller, 'env'>): Promise<ApiKeyWithSecret> {
  const env = input.env ?? caller?.env
  if (env === undefined) throw new Error('createKey needs an env or a caller')
  const issues = [...adminIssues(input.scopes, input.brandId != null, 'scopes'), ...(caller === undefined ? [] : envIssues(env, caller, 'env'))]
  if (issues.length > 0) throw ruleBroken(issues)
  return await em.transactional(async (tx) => {
    if (input.brandId != null && await tx.findOne(Brand, input.brandId) === null) {
      throw notFound(`Brand ${input.brandId} not found`)
    }
    return insertKey(tx, { ...input, env })
  })
}

/** A brand and its first key (in the caller's env unless the CLI says otherwise), committed together. */
export async function createBrand (em: EntityManager, input: { name: string, key?: Partial<Omit<NewKey, 'brandId'>> | undefined }, caller?: Pick<Caller, 'env'>): Promise<{ brand: BrandView, key: ApiKeyWithSecret }> {
  const env = input.key?.env ?? caller?.env ?? 'live'
  const scopes = input.key?.scopes ?? defaultBrandKeyScopes
  const issues = [...adminIssues(scopes, true, 'key.scopes'), ...(caller === undefined ? [] : envIssues(env, caller, 'key.env'))]
  if (issues.length > 0) throw ruleBroken(issues)
  return await em.transactional(async (tx) => {
    const brand = tx.create(Brand, { id: randomUUID(), name: input.name, createdAt: new Date() })
    const key = insertKey(tx, {
      name: input.key?.name ?? `${input.name} key`,
      env,
      scopes,
      tier: input.key?.tier ?? 'standard',
      brandId: brand.id
    })
    return { brand: { id: brand.id, name: brand.name, createdAt: brand.createdAt.toISOString() }, key }
  })
}

export interface BrandSummary extends BrandView { activeKeys: number }

const brandPager = newestFirst<InferEntity<typeof Brand>>('brands', 'createdAt')
const keyPager = newestFirst<ApiKeyRow>('keys', 'createdAt')

/** A page of brands, newest first, each with its count of unrevoked keys in `env` (one grouped query per page). */
export async function listBrands (em: EntityManager, env: KeyEnv, request: PageRequest): Promise<Page<BrandSummary>> {
  const page = await brandPager.find(em, Brand, {}, request, {}, (brand) => brand)
  const counts = page.data.length === 0
    ? []
    : await sql<{ brand_id: string, active_keys: number }>(em,
      `select brand_id, count(*)::int as active_keys from api_key
        where brand_id = any(?::uuid[]) and env = ? and revoked_at is null group by brand_id`, [page.data.map((b) => b.id), env])
  const active = new Map(counts.map((row) => [row.brand_id, row.active_keys]))
  return { ...page, data: page.data.map((b) => ({ id: b.id, name: b.name, createdAt: b.createdAt.toISOString(), activeKeys: active.get(b.id) ?? 0 })) }
}

/**
 * Which keys an operation may touch: an admin key's own env, or `any` for the CLI (the operator at
 * the database, outside the API's walls) — said explicitly, never a default.
 */
export type KeyEnvScope = KeyEnv | 'any'
const envWhere = (env: KeyEnvScope) => (env === 'any' ? {} : { env })

/** A page of the keys of `env` (revoked ones too), newest first; never a secret or a hash. */
export async function listKeys (em: EntityManager, env: KeyEnvScope, filters: { brandId?: string | undefined }, request: PageRequest): Promise<Page<ApiKeyView>> {
  const where = { ...envWhere(env), ...(filters.brandId === undefined ? {} : { brand: filters.brandId }) }
  return await keyPager.find(em, ApiKey, where, request, { ...filters }, toApiKeyView)
}

/**
 * Tells every instance, when `tx` commits, that key `id` changed, so each drops it from its cache.
 * NOTIFY is transactional: a rolled-back change announces nothing, and no instance hears of a
 * change before it can read it.
 */
export async function announceKeyChange (tx: EntityManager, id: string): Promise<void> {
  await sql(tx, 'select pg_notify(?, ?)', [keyChangesChannel, id])
}

/**
 * Revokes the key of `env`; revoking twice keeps the first revokedAt. 404 when `env` has no key
 * with this id. Every instance hears of it within moments; `cache` (this instance's) forgets it
 * on commit, so the key's very next request here is refused.
 */
export async function revokeKey (em: EntityManager, id: string, env: KeyEnvScope, cache?: KeyCache): Promise<ApiKeyView> {
  const view = await em.transactional(async (tx) => {
    // One conditional UPDATE: concurrent revocations cannot overwrite each other's timestamp.
    await tx.nativeUpdate(ApiKey, { id, ...envWhere(env), revokedAt: null }, { revokedAt: new Date() })
    const row = await tx.findOne(ApiKey, { id, ...envWhere(env) }, { refresh: true })
    if (row === null) throw notFound(`API key ${id} not found`)
    await announceKeyChange(tx, id)
    return toApiKeyView(row)
  })
  cache?.forget(id)
  return view
}

/** The key whose secret hashes to `hash`, revoked or not (one lookup on the unique index). */
export async function findKeyByHash (em: EntityManager, hash: string): Promise<ApiKeyRow | null> {
  return await em.findOne(ApiKey, { keyHash: hash })
}

/** Who a request is (`request.caller`), and what the auth plugin needs to record its use. */
export interface AuthenticatedKey extends Caller {
  name: string
  prefix: string
  lastUsedAt: Date | null
}

// RFC 6750: a 401 for a Bearer-protected resource says how to authenticate.
const missingChallenge = { 'www-authenticate': 'Bearer realm="loop"' }
const invalidChallenge = { 'www-authenticate': 'Bearer realm="loop", error="invalid_token"' }

/** The 401 of a request that carries no key where one is needed. */
export const missingKey = () => unauthorized('Missing API key: send Authorization: Bearer <key>', missingChallenge)

async function loadKey (em: EntityManager, hash: string): Promise<CachedKey | null> {
  const row = await findKeyByHash(em, hash)
  return row === null
    ? null
    : {
        keyId: row.id,
        name: row.name,
        env: row.env,
        scopes: row.scopes,
        tier: row.tier,
        brandId: row.brand ?? null,
        prefix: row.prefix,
        lastUsedAt: row.lastUsedAt ?? null,
        revokedAt: row.revokedAt ?? null
      }
}

/**
 * The key a request presents, or a 401. Keys are found by the SHA-256 of the presented key, so
 * the secret itself is never compared; a malformed key is refused without a lookup. With `cache`
 * a known key costs no query; an unknown one is read from the database each time. The result may
 * be shared with other requests: read it, never change it.
 */
export async function authenticateKey (em: EntityManager, presented: string | null, cache?: KeyCache): Promise<AuthenticatedKey> {
  if (presented === null) throw missingKey()
  let key: CachedKey | null = null
  if (parseApiKey(presented) !== null) {
    const hash = hashApiKey(presented)
    key = cache === undefined ? await loadKey(em, hash) : await cache.get(hash, async () => await loadKey(em, hash))
  }
  if (key === null) throw unauthorized('Invalid API key', invalidChallenge)
  if (key.revokedAt !== null) throw unauthorized('This API key has been revoked', invalidChallenge)
  return key
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
