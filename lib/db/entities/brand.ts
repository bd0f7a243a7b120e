// Table `brand`: a customer of Loop, owner of API keys (docs/api.md#api-keys).
import { defineEntity, p } from '@mikro-orm/core'

export const Brand = defineEntity({
  name: 'Brand',
  tableName: 'brand',
  properties: {
    id: p.uuid().primary(),
    name: p.text(),
    createdAt: p.datetime(3).fieldName('created_at').defaultRaw('now()')
  },
  indexes: [
    { name: 'brand_created_at_idx', expression: 'create index brand_created_at_idx on brand (created_at desc, id desc)' }
  ]
})
