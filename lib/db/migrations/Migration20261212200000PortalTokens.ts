// Brand portal links (lib/portal): the hash of each link's token, whose brand and env it opens,
// and until when.
import { Migration } from '@mikro-orm/migrations'

export class Migration20261212200000PortalTokens extends Migration {
  override up (): void {
    this.addSql(`
      create table portal_token (
        id uuid primary key,
        brand_id uuid not null constraint portal_token_brand_id_fkey references brand (id) on delete restrict,
        env text not null constraint portal_token_env_check check (env in ('live', 'test', 'dev')),
        token_hash text not null constraint portal_token_token_hash_check check (token_hash ~ '^[0-9a-f]{64}$'),
        expires_at timestamptz(3) not null,
        created_at timestamptz(3) not null default now(),
        constraint portal_token_token_hash_key unique (token_hash)
      )`)
    this.addSql('create index portal_token_brand_id_idx on portal_token (brand_id)')
    this.addSql('create index portal_token_expires_at_idx on portal_token (expires_at)')
  }

  override down (): void {
    this.addSql('drop table portal_token')
  }
}
