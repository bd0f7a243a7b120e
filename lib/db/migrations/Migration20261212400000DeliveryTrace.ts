// With tracing on (docs/operations.md#traces), each delivery keeps the W3C `traceparent` of the
// span that queued it (the request, or its group-commit batch), so every attempt, however much
// later, is drawn in the trace of the request that caused it. Null when tracing is off.
import { Migration } from '@mikro-orm/migrations'

export class Migration20261212400000DeliveryTrace extends Migration {
  override async up (): Promise<void> {
    this.addSql('alter table webhook_delivery add column trace_parent text')
  }

  override async down (): Promise<void> {
    this.addSql('alter table webhook_delivery drop column trace_parent')
  }
}
