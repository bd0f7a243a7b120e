// Tables are named one way, singular, like every table after them: `brands` becomes `brand` and
// `api_keys` becomes `api_key`. The constraints and indexes named after the old table follow it
// (an index behind a primary key or unique constraint is renamed with its constraint). Neither
// table has a sequence (their ids are uuids); foreign keys of other tables keep their own names.
import { Migration } from '@mikro-orm/migrations'

const apiKeyConstraints = ['pkey', 'key_hash_key', 'brand_id_fkey', 'env_check', 'tier_check', 'key_hash_check', 'admin_is_operator']

export class Migration20261209100000SingularTables extends Migration {
  override up (): void {
    this.addSql('alter table brands rename to brand')
    this.addSql('alter table brand rename constraint brands_pkey to brand_pkey')
    this.addSql('alter table api_keys rename to api_key')
    for (const suffix of apiKeyConstraints) {
      this.addSql(`alter table api_key rename constraint api_keys_${suffix} to api_key_${suffix}`)
    }
    this.addSql('alter index api_keys_brand_id_idx rename to api_key_brand_id_idx')
  }

  override down (): void {
    this.addSql('alter index api_key_brand_id_idx rename to api_keys_brand_id_idx')
    for (const suffix of apiKeyConstraints) {
      this.addSql(`alter table api_key rename constraint api_key_${suffix} to api_keys_${suffix}`)
    }
    this.addSql('alter table api_key rename to api_keys')
    this.addSql('alter table brand rename constraint brand_pkey to brands_pkey')
    this.addSql('alter table brand rename to brands')
  }
}
