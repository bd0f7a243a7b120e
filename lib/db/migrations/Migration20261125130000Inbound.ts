// Inbound webhooks: declared routes, delivery receipts for dedupe, rejections kept for replay,
// and the raw provider body beside each event they produce.
import { Migration } from '@mikro-orm/migrations'

export class Migration20261125130000Inbound extends Migration {
  override async up (): Promise<void> {
    this.addSql(`create table inbound_route (
      id uuid primary key default gen_random_uuid(),
      event_type text not null references event_type (name),
      source text not null check (source in ('shopify', 'bigcommerce', 'typeform', 'calendly', 'custom')),
      webhook_path text not null unique check (webhook_path like '/webhooks/%'),
      transform json,
      secret text,
      key_id uuid,
      brand_id uuid,
      env text not null check (env in ('live', 'test', 'dev')),
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    )`)
    this.addSql('create index inbound_route_event_type_idx on inbound_route (event_type)')
    // One row per provider delivery (webhook id, body hash…): a redelivery finds it and stores nothing.
    this.addSql(`create table inbound_receipt (
      route_id uuid not null references inbound_route (id) on delete cascade,
      dedupe_key text not null,
      event_id uuid references event (id),
      created_at timestamptz not null default now(),
      primary key (route_id, dedupe_key)
    )`)
    this.addSql(`create table event_rejection (
      id uuid primary key default gen_random_uuid(),
      route_id uuid not null references inbound_route (id) on delete cascade,
      event_type text not null,
      source text not null,
      webhook_path text not null,
      dedupe_key text,
      headers json not null,
      body text not null,
      issues json not null,
      brand_id uuid,
      created_at timestamptz(3) not null default now(),
      replayed_at timestamptz,
      replayed_event_id uuid references event (id)
    )`)
    this.addSql('create index event_rejection_created_at_idx on event_rejection (created_at desc, id desc)')
    this.addSql('alter table event add column raw_body text')
  }

  override async down (): Promise<void> {
    this.addSql('alter table event drop column if exists raw_body')
    this.addSql('drop table if exists event_rejection')
    this.addSql('drop table if exists inbound_receipt')
    this.addSql('drop table if exists inbound_route')
  }
}
