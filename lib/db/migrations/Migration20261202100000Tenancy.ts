// Tenancy (docs/tenancy.md): every stored row names its owner, a brand (or null,
// the operator) and an env, so every query can carry the owner in its `where`. Rows written before
// this migration get the owner they already implied: a loop signal and its issue take their
// endpoint's, provider signals and their issues are the operator's live rows, a rejection takes
// its route's env, and a declared event type is copied to every brand whose events or routes use
// it (the brandless original stays the operator's).
import { Migration } from '@mikro-orm/migrations'

export class Migration20261202100000Tenancy extends Migration {
  override async up (): Promise<void> {
    // `admin` is the operator's alone: a brand key holding it could see and mint every brand's keys.
    this.addSql("update api_keys set scopes = array_remove(scopes, 'admin') where brand_id is not null and 'admin' = any (scopes)")
    this.addSql("alter table api_keys add constraint api_keys_admin_is_operator check (brand_id is null or not ('admin' = any (scopes)))")

    // Declared event types are per brand: two brands may each declare quiz.completed.v1. Built-in
    // types are brandless and shared. Events and routes keep the type's name; the brand they
    // belong to says whose declaration it is.
    this.addSql('alter table event drop constraint if exists event_name_fkey')
    this.addSql('alter table inbound_route drop constraint if exists inbound_route_event_type_fkey')
    this.addSql('alter table event_type add column id uuid not null default gen_random_uuid()')
    this.addSql('alter table event_type add column brand_id uuid references brands (id)')
    this.addSql('alter table event_type drop constraint event_type_pkey')
    this.addSql('alter table event_type add primary key (id)')
    this.addSql('create unique index event_type_owner_name_unique on event_type (brand_id, name) nulls not distinct')
    this.addSql('alter table event_type add constraint event_type_built_in_is_shared check (not built_in or brand_id is null)')
    this.addSql(`insert into event_type (name, fields, json_schema, built_in, created_at, brand_id)
      select t.name, t.fields, t.json_schema, false, t.created_at, used.brand_id
        from event_type t
        join (select name, brand_id from event where brand_id is not null
              union select event_type, brand_id from inbound_route where brand_id is not null) used on used.name = t.name
       where not t.built_in`)

    // A payload eventId is stored once per brand, env and type: a test event must never answer a
    // live request as its duplicate.
    this.addSql('drop index event_brand_event_id_unique')
    this.addSql('create unique index event_owner_event_id_unique on event (brand_id, env, name, event_id) nulls not distinct where event_id is not null')
    this.addSql('create index event_owner_received_at_idx on event (brand_id, env, received_at desc, id desc)')

    this.addSql('alter table event_rejection add column env text')
    this.addSql('update event_rejection r set env = ir.env from inbound_route ir where ir.id = r.route_id')
    this.addSql("alter table event_rejection alter column env set not null, add constraint event_rejection_env_check check (env in ('live', 'test', 'dev'))")

    // Signals and issues: no default owner, so an insert that forgets it fails instead of
    // falling open to the operator.
    this.addSql("alter table signal add column brand_id uuid references brands (id), add column env text not null default 'live' check (env in ('live', 'test', 'dev'))")
    this.addSql(`update signal s set brand_id = e.brand_id, env = e.env
      from webhook_endpoint e where s.source = 'loop' and s.source_id = e.id::text`)
    this.addSql('alter table signal alter column env drop default')
    this.addSql("alter table issue add column brand_id uuid references brands (id), add column env text not null default 'live' check (env in ('live', 'test', 'dev'))")
    this.addSql('update issue i set brand_id = s.brand_id, env = s.env from signal s where i.signal_id = s.id')
    this.addSql('alter table issue alter column env drop default')
    this.addSql('create index signal_owner_recent on signal (brand_id, env, created_at desc, id desc)')
    this.addSql("create index issue_owner_claimable on issue (brand_id, env, priority, number) where status in ('triage', 'todo')")
    this.addSql('create index issue_owner_by_priority on issue (brand_id, env, priority, number)')
  }

  override async down (): Promise<void> {
    this.addSql('drop index if exists issue_owner_by_priority')
    this.addSql('drop index if exists issue_owner_claimable')
    this.addSql('drop index if exists signal_owner_recent')
    this.addSql('alter table issue drop column brand_id, drop column env')
    this.addSql('alter table signal drop column brand_id, drop column env')
    this.addSql('alter table event_rejection drop column env')
    this.addSql('drop index if exists event_owner_received_at_idx')
    this.addSql('drop index if exists event_owner_event_id_unique')
    this.addSql('create unique index event_brand_event_id_unique on event (brand_id, name, event_id) nulls not distinct where event_id is not null')
    this.addSql('delete from event_type where brand_id is not null')
    this.addSql('alter table event_type drop constraint event_type_built_in_is_shared')
    this.addSql('drop index event_type_owner_name_unique')
    this.addSql('alter table event_type drop constraint event_type_pkey')
    this.addSql('alter table event_type drop column id, drop column brand_id')
    this.addSql('alter table event_type add primary key (name)')
    this.addSql('alter table inbound_route add constraint inbound_route_event_type_fkey foreign key (event_type) references event_type (name)')
    this.addSql('alter table event add constraint event_name_fkey foreign key (name) references event_type (name)')
    this.addSql('alter table api_keys drop constraint api_keys_admin_is_operator')
  }
}
