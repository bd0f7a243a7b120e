// Retention (lib/retention, docs/operations.md#retention) deletes settled deliveries oldest first
// by when they settled: an index of exactly those rows, so each batch reads its 1,000 rows from
// the front of it instead of scanning the table for them.
import { Migration } from '@mikro-orm/migrations'

export class Migration20261211300000Retention extends Migration {
  override async up (): Promise<void> {
    this.addSql("create index webhook_delivery_settled_idx on webhook_delivery (updated_at) where status in ('succeeded', 'failed')")
  }

  override async down (): Promise<void> {
    this.addSql('drop index if exists webhook_delivery_settled_idx')
  }
}
