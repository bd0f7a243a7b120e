// Brands and API keys (docs/api.md#api-keys). Keys are looked up by the SHA-256 of the presented
// secret on every authenticated request, hence the unique index on key_hash.
import { Migration } from '@mikro-orm/migrations'

export class Migration20261125110000Keys extends Migration {
  override up (): void {
    this.addSql(`
      create table brands (
        id uuid primary key,
        name text not null,
        created_at timestamptz not null default now()
      )`)
    this.addSql(`
      create table api_keys (
        id uuid primary key,
        name text not null,
        env text not null check (env in ('live', 'test', 'dev')),
        scopes text[] not null,
        tier text not null default 'standard' check (tier in ('standard', 'premium')),
        brand_id uuid references brands (id) on delete restrict,
        key_hash text not null check (key_hash ~ '^[0-9a-f]{64}$'),
        prefix text not null,
        last_used_at timestamptz,
        revoked_at timestamptz,
        created_at timestamptz not null default now(),
        constraint api_keys_key_hash_key unique (key_hash)
      )`)
    this.addSql('create index api_keys_brand_id_idx on api_keys (brand_id)')
  }

  override down (): void {
    this.addSql('drop table api_keys')
    this.addSql('drop table brands')
  }
}
