// Delivery health (lib/stats/delivery-health.ts) reads an endpoint's deliveries updated in the
// last hour or day, and their attempts through them: recording an attempt sets its delivery's
// updated_at, so this index bounds every summary to its window instead of the endpoint's whole log.
import { Migration } from '@mikro-orm/migrations'

export class Migration20261212300000DeliveryHealth extends Migration {
  override async up (): Promise<void> {
    this.addSql('create index webhook_delivery_endpoint_updated_idx on webhook_delivery (endpoint_id, updated_at)')
  }

  override async down (): Promise<void> {
    this.addSql('drop index if exists webhook_delivery_endpoint_updated_idx')
  }
}
