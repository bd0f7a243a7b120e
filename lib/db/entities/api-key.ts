// Table `api_key`: one row per key; the secret itself is never stored, only its SHA-256 hash
// (the unique lookup key) and a short visible prefix.
import { defineEntity, p } from '@mikro-orm/core'
import type { KeyEnv, KeyTier, Scope } from '../../keys/api-key.ts'
import { Brand } from './brand.ts'

export const ApiKey = defineEntity({
  name: 'ApiKey',
  tableName: 'api_key',
  properties: {
    id: p.uuid().primary(),
    name: p.text(),
    env: p.text().$type<KeyEnv>(),
    scopes: p.array().$type<Scope[]>(),
    tier: p.text().$type<KeyTier>(),
    brand: p.manyToOne(Brand).mapToPk().nullable().fieldName('brand_id'),
    keyHash: p.text().fieldName('key_hash').unique('api_key_key_hash_key'),
    prefix: p.text(),
    lastUsedAt: p.datetime().nullable().fieldName('last_used_at'),
    revokedAt: p.datetime().nullable().fieldName('revoked_at'),
    createdAt: p.datetime().fieldName('created_at')
  }
})
