// The circuit breaker (lib/outbound/queue.ts) keeps its state on the endpoint row, so every
// instance honours it: failed attempts in a row, and until when claims leave the endpoint alone.
import { Migration } from '@mikro-orm/migrations'

export class Migration20261211110000CircuitBreaker extends Migration {
  override async up (): Promise<void> {
    this.addSql(`alter table webhook_endpoint
      add column consecutive_failures integer not null default 0 constraint webhook_endpoint_consecutive_failures_check check (consecutive_failures >= 0),
      add column paused_until timestamptz(3)`)
  }

  override async down (): Promise<void> {
    this.addSql('alter table webhook_endpoint drop column paused_until, drop column consecutive_failures')
  }
}
