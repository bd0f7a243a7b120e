// Outbound webhooks: endpoints, deliveries and attempts. The delivery row is at once the job
// queue entry and the log: it is written in the same transaction as the event it carries, so an
// event is never stored without its deliveries nor a delivery queued for an event that rolled back.
import { Migration } from '@mikro-orm/migrations'

export class Migration20261125140000Webhooks extends Migration {
  override async up (): Promise<void> {
    this.addSql(`create table webhook_endpoint (
      id uuid primary key default gen_random_uuid(),
      url text not null,
      events text[] not null check (cardinality(events) > 0),
      env text not null check (env in ('live', 'test')),
      description text,
      brand_id uuid,
      key_id uuid,
      -- the registering key's scopes, kept with the subscription: they decide what it may receive
      scopes text[] not null,
      secret text not null,
      previous_secret text,
      previous_secret_expires_at timestamptz(3),
      status text not null default 'active' check (status in ('active', 'failing', 'disabled')),
      failing_since timestamptz(3),
      created_at timestamptz(3) not null default now(),
      updated_at timestamptz(3) not null default now()
    )`)
    // Fan-out reads the live endpoints of one env (and brand) inside every event's transaction.
    this.addSql("create index webhook_endpoint_fan_out_idx on webhook_endpoint (env, brand_id) where status <> 'disabled'")
    this.addSql('create index webhook_endpoint_list_idx on webhook_endpoint (created_at desc, id desc)')

    this.addSql(`create table webhook_delivery (
      id uuid primary key default gen_random_uuid(),
      endpoint_id uuid not null references webhook_endpoint (id) on delete cascade,
      message_id uuid not null,
      event_type text not null,
      -- the exact bytes signed and sent on every attempt
      body text not null,
      status text not null default 'pending' check (status in ('pending', 'succeeded', 'failed')),
      attempt_count integer not null default 0 check (attempt_count >= 0),
      next_attempt_at timestamptz(3) not null default now(),
      -- a claim is a lease: a worker that dies mid-send lets it expire and another takes over
      locked_until timestamptz(3),
      claim_token uuid,
      manual_retry boolean not null default false,
      last_status_code integer,
      last_error text,
      created_at timestamptz(3) not null default now(),
      updated_at timestamptz(3) not null default now(),
      -- one message reaches one endpoint once, however often fan-out runs
      constraint webhook_delivery_message_unique unique (endpoint_id, message_id)
    )`)
    this.addSql("create index webhook_delivery_due_idx on webhook_delivery (next_attempt_at) where status = 'pending'")
    this.addSql('create index webhook_delivery_log_idx on webhook_delivery (endpoint_id, created_at desc, id desc)')

    this.addSql(`create table webhook_attempt (
      id uuid primary key default gen_random_uuid(),
      delivery_id uuid not null references webhook_delivery (id) on delete cascade,
      attempt_number integer not null check (attempt_number > 0),
      attempted_at timestamptz(3) not null,
      status_code integer,
      latency_ms integer not null check (latency_ms >= 0),
      error text,
      response_body text,
      -- an attempt is recorded once, whichever instance made it
      constraint webhook_attempt_number_unique unique (delivery_id, attempt_number)
    )`)
  }

  override async down (): Promise<void> {
    this.addSql('drop table if exists webhook_attempt')
    this.addSql('drop table if exists webhook_delivery')
    this.addSql('drop table if exists webhook_endpoint')
  }
}
