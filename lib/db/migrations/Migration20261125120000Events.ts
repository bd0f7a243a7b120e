// Events: the type registry (seeded with the built-in types), stored events and idempotency keys.
import { Migration } from '@mikro-orm/migrations'
import { builtinEventTypes } from '../../events/builtin-types.ts'
import { fieldsToJsonSchema } from '../../events/field-schema.ts'

export class Migration20261125120000Events extends Migration {
  override async up (): Promise<void> {
    // json, not jsonb, for declarations: discovery shows fields in the order they were declared.
    this.addSql(`create table event_type (
      name text primary key check (name ~ '^[a-z][a-z0-9_]*(\\.[a-z][a-z0-9_]*)*\\.v[1-9][0-9]*$'),
      fields json not null,
      json_schema json not null,
      built_in boolean not null default false,
      created_at timestamptz not null default now()
    )`)
    this.addSql(`create table event (
      id uuid primary key default gen_random_uuid(),
      name text not null references event_type (name),
      event_id text,
      payload jsonb not null,
      key_id uuid,
      brand_id uuid,
      env text not null check (env in ('live', 'test', 'dev')),
      source text not null,
      -- millisecond precision: the value round-trips through JavaScript Dates in page cursors
      received_at timestamptz(3) not null default now()
    )`)
    // A payload eventId is stored once per brand (and type: Calendly's created and canceled share an
    // invitee id); NULLS NOT DISTINCT makes brandless keys dedupe too.
    this.addSql('create unique index event_brand_event_id_unique on event (brand_id, name, event_id) nulls not distinct where event_id is not null')
    this.addSql('create index event_received_at_idx on event (received_at desc, id desc)')
    this.addSql('create index event_name_received_at_idx on event (name, received_at desc, id desc)')
    this.addSql(`create table idempotency_key (
      key_id text not null,
      idempotency_key text not null,
      request_hash text not null,
      state text not null check (state in ('in_flight', 'done')),
      response_status integer,
      response_body text,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      primary key (key_id, idempotency_key)
    )`)
    this.addSql('create index idempotency_key_created_at_idx on idempotency_key (created_at)')
    for (const [name, fields] of Object.entries(builtinEventTypes)) {
      this.addSql(this.getKnex().insert({ name, fields: JSON.stringify(fields), json_schema: JSON.stringify(fieldsToJsonSchema(fields)), built_in: true }).into('event_type'))
    }
  }

  override async down (): Promise<void> {
    this.addSql('drop table if exists idempotency_key')
    this.addSql('drop table if exists event')
    this.addSql('drop table if exists event_type')
  }
}
