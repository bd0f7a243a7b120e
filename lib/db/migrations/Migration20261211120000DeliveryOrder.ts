// Ordered delivery on request (docs/webhooks.md#ordering): an endpoint's `ordering`, and each
// delivery's place in the order Loop accepted it (`seq`, from one sequence, so deliveries queued
// by one statement keep their messages' order). A FIFO endpoint's head is its pending delivery
// with the lowest seq, found through the index.
import { Migration } from '@mikro-orm/migrations'

export class Migration20261211120000DeliveryOrder extends Migration {
  override async up (): Promise<void> {
    this.addSql(`alter table webhook_endpoint
      add column ordering text not null default 'unordered' constraint webhook_endpoint_ordering_check check (ordering in ('unordered', 'fifo'))`)
    this.addSql('alter table webhook_delivery add column seq bigserial')
    this.addSql("create index webhook_delivery_fifo_idx on webhook_delivery (endpoint_id, seq) where status = 'pending'")
  }

  override async down (): Promise<void> {
    this.addSql('drop index webhook_delivery_fifo_idx')
    this.addSql('alter table webhook_delivery drop column seq')
    this.addSql('alter table webhook_endpoint drop column ordering')
  }
}
