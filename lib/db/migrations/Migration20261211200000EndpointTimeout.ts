// Each endpoint sets how long an attempt may wait for its answer (1–30 s, 15 s unless it says
// otherwise; docs/webhooks.md#delivery-schedule). The existing endpoints take the default, which
// is longer than the 10 s every attempt had before.
import { Migration } from '@mikro-orm/migrations'

export class Migration20261211200000EndpointTimeout extends Migration {
  override up (): void {
    this.addSql('alter table webhook_endpoint add column timeout_ms integer not null default 15000')
    this.addSql('alter table webhook_endpoint add constraint webhook_endpoint_timeout_ms_check check (timeout_ms >= 1000 and timeout_ms <= 30000)')
  }

  override down (): void {
    this.addSql('alter table webhook_endpoint drop column timeout_ms')
  }
}
