// Ordered delivery on request (docs/webhooks.md#ordering): an endpoint's `ordering`, and each
// delivery's place in the order Loop accepted it (`seq`, from one sequence, so deliveries queued
// by one statement keep their messages' order). A FIFO endpoint's head is its pending delivery
// with the lowest seq, found through the index. And a per-endpoint rate limit (messages per
// second), a token bucket kept on the endpoint row so every instance draws from the same one.
import { Migration } from '@mikro-orm/migrations'

export class Migration20261211120000OrderingAndRateLimit extends Migration {
  override async up (): Promise<void> {
    this.addSql(`alter table webhook_endpoint
      add column ordering text not null default 'unordered' constraint webhook_endpoint_ordering_check check (ordering in ('unordered', 'fifo'))`)
    this.addSql('alter table webhook_delivery add column seq bigserial')
    this.addSql("create index webhook_delivery_fifo_idx on webhook_delivery (endpoint_id, seq) where status = 'pending'")
    // rate_tokens as of rate_updated_at; null: a full bucket (rate_limit tokens).
    this.addSql(`alter table webhook_endpoint
      add column rate_limit integer constraint webhook_endpoint_rate_limit_check check (rate_limit >= 1 and rate_limit <= 10000),
      add column rate_tokens double precision,
      add column rate_updated_at timestamptz(3)`)
  }

  override async down (): Promise<void> {
    this.addSql('alter table webhook_endpoint drop column rate_updated_at, drop column rate_tokens, drop column rate_limit')
    this.addSql('drop index webhook_delivery_fifo_idx')
    this.addSql('alter table webhook_delivery drop column seq')
    this.addSql('alter table webhook_endpoint drop column ordering')
  }
}
