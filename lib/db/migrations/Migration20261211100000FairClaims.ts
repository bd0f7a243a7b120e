// Claims rotate across endpoints (lib/outbound/queue.ts): for each endpoint with due work, its
// oldest due deliveries up to its free slots, and its attempts in flight counted by lease. Both
// read one endpoint's rows through an index, so a long backlog or many endpoints cost no scan.
import { Migration } from '@mikro-orm/migrations'

export class Migration20261211100000FairClaims extends Migration {
  override async up (): Promise<void> {
    this.addSql("create index webhook_delivery_endpoint_due_idx on webhook_delivery (endpoint_id, next_attempt_at) where status = 'pending'")
    // Only claimed rows carry a lease: the in-flight index stays as small as the work in flight.
    this.addSql('create index webhook_delivery_in_flight_idx on webhook_delivery (endpoint_id, locked_until) where locked_until is not null')
  }

  override async down (): Promise<void> {
    this.addSql('drop index webhook_delivery_in_flight_idx')
    this.addSql('drop index webhook_delivery_endpoint_due_idx')
  }
}
