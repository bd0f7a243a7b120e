// Custom headers per endpoint, sent with every attempt (docs/webhooks.md#custom-headers): name to
// value, as the API gave them. Values may be the receiver's API keys, so they are only ever read
// to send (never returned, never logged).
import { Migration } from '@mikro-orm/migrations'

export class Migration20261211210000EndpointHeaders extends Migration {
  override up (): void {
    this.addSql("alter table webhook_endpoint add column headers jsonb not null default '{}'")
  }

  override down (): void {
    this.addSql('alter table webhook_endpoint drop column headers')
  }
}
