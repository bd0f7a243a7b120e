// Table `portal_token`: one row per brand portal link (lib/portal). The token itself is never
// stored, only its SHA-256 hash, the unique lookup key; a row outlives its expiry so that a late
// visitor is told the link expired rather than that it never existed.
import { defineEntity, p } from '@mikro-orm/core'
import { Brand } from './brand.ts'

export const PortalToken = defineEntity({
  name: 'PortalToken',
  tableName: 'portal_token',
  properties: {
    id: p.uuid().primary(),
    brand: p.manyToOne(Brand).mapToPk().fieldName('brand_id').foreignKeyName('portal_token_brand_id_fkey').deleteRule('restrict').updateRule('no action'),
    env: p.enum(['live', 'test', 'dev']),
    tokenHash: p.text().fieldName('token_hash').unique('portal_token_token_hash_key'),
    expiresAt: p.datetime(3).fieldName('expires_at'),
    createdAt: p.datetime(3).fieldName('created_at').defaultRaw('now()')
  },
  indexes: [
    { name: 'portal_token_brand_id_idx', properties: ['brand'] },
    // Retention deletes expired links oldest first (lib/retention).
    { name: 'portal_token_expires_at_idx', properties: ['expiresAt'] }
  ],
  checks: [
    { name: 'portal_token_token_hash_check', expression: "token_hash ~ '^[0-9a-f]{64}$'" }
  ]
})
