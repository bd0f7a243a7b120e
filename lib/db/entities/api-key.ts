// Table `api_key`: one row per key; the secret itself is never stored, only its SHA-256 hash
// (the unique lookup key) and a short visible prefix.
import { defineEntity, p } from '@mikro-orm/core'
import type { Scope } from '../../keys/api-key.ts'
import { Brand } from './brand.ts'

export const ApiKey = defineEntity({
  name: 'ApiKey',
  tableName: 'api_key',
  properties: {
    id: p.uuid().primary(),
    name: p.text(),
    env: p.enum(['live', 'test', 'dev']),
    scopes: p.array().$type<Scope[]>(),
    tier: p.enum(['standard', 'premium']).default('standard'),
    brand: p.manyToOne(Brand).mapToPk().nullable().fieldName('brand_id').foreignKeyName('api_key_brand_id_fkey').deleteRule('restrict').updateRule('no action'),
    keyHash: p.text().fieldName('key_hash').unique('api_key_key_hash_key'),
    prefix: p.text(),
    lastUsedAt: p.datetime().nullable().fieldName('last_used_at'),
    revokedAt: p.datetime().nullable().fieldName('revoked_at'),
    createdAt: p.datetime(3).fieldName('created_at').defaultRaw('now()')
  },
  indexes: [
    { name: 'api_key_env_created_at_idx', expression: 'create index api_key_env_created_at_idx on api_key (env, created_at desc, id desc)' },
    { name: 'api_key_owner_created_at_idx', expression: 'create index api_key_owner_created_at_idx on api_key (brand_id, env, created_at desc, id desc)' }
  ],
  checks: [
    { name: 'api_key_key_hash_check', expression: "key_hash ~ '^[0-9a-f]{64}$'" },
    // `admin` is the operator's alone (docs/tenancy.md).
    { name: 'api_key_admin_is_operator', expression: "brand_id is null or not ('admin' = any (scopes))" }
  ]
})
