// Signals and issues (docs/signals.md#receiving-a-delivery, docs/signals.md#issues). Hand-written DDL: the constraints here are what make
// ingestion dedupe and the claim loop safe under concurrency, so they are spelled out, not derived.
import { Migration } from '@mikro-orm/migrations'

export class Migration20261125100000Signals extends Migration {
  override async up (): Promise<void> {
    this.addSql(`
      create table signal (
        id uuid primary key default gen_random_uuid(),
        source text not null check (source ~ '^[a-z][a-z0-9_-]{0,31}$'),
        type text not null check (char_length(type) between 1 and 200),
        severity text not null check (severity in ('critical', 'high', 'medium', 'low')),
        source_id text check (char_length(source_id) <= 500),
        delivery_id text check (char_length(delivery_id) between 1 and 200),
        payload jsonb not null,
        payload_hash text not null check (payload_hash ~ '^[0-9a-f]{64}$'),
        created_at timestamptz(3) not null default now()
      )`)
    // A redelivery is recognised by the provider's delivery id when it sends one (GitHub
    // X-GitHub-Delivery, Sentry Request-ID), otherwise by what it is about and what it says.
    // Unique indexes, not lookups, decide: concurrent redeliveries cannot both insert.
    this.addSql('create unique index signal_delivery_unique on signal (source, delivery_id) where delivery_id is not null')
    this.addSql("create unique index signal_content_unique on signal (source, coalesce(source_id, ''), payload_hash) where delivery_id is null")
    this.addSql('create index signal_recent on signal (created_at desc, id desc)')

    this.addSql(`
      create table issue (
        id uuid primary key default gen_random_uuid(),
        number integer generated always as identity unique,
        type text not null check (type in ('signal', 'bug', 'feature', 'task')),
        status text not null check (status in ('triage', 'todo', 'in_progress', 'done', 'canceled')),
        priority smallint not null check (priority between 1 and 4),
        title text not null check (char_length(title) between 1 and 500),
        description text check (char_length(description) <= 65536),
        signal_id uuid unique references signal (id),
        assignee text check (char_length(assignee) between 1 and 200),
        claimed_by text check (char_length(claimed_by) between 1 and 200),
        claimed_at timestamptz(3),
        created_at timestamptz(3) not null default now(),
        updated_at timestamptz(3) not null default now(),
        -- an issue of type signal always points at the signal it came from
        constraint issue_signal_has_signal check (type <> 'signal' or signal_id is not null)
      )`)
    // The claim loop and the list both walk issues by priority, then age (number).
    this.addSql("create index issue_claimable on issue (priority, number) where status in ('triage', 'todo')")
    this.addSql('create index issue_by_priority on issue (priority, number)')
  }

  override async down (): Promise<void> {
    this.addSql('drop table if exists issue')
    this.addSql('drop table if exists signal')
  }
}
