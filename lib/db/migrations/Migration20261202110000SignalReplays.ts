// A provider signs the body, never its own delivery id (X-GitHub-Delivery, Sentry's Request-ID),
// so a captured body replayed under a fresh id is the same delivery: signals are unique by source
// and payload hash as well as by delivery id. Copies stored before this rule (a redelivery under a
// new id) keep their rows, marked as the duplicate of the first, so the index can hold.
import { Migration } from '@mikro-orm/migrations'

export class Migration20261202110000SignalReplays extends Migration {
  override async up (): Promise<void> {
    this.addSql('alter table signal add column duplicate_of uuid references signal (id)')
    this.addSql(`update signal s set duplicate_of = first.id
      from (select distinct on (source, payload_hash) id, source, payload_hash from signal order by source, payload_hash, created_at, id) first
     where s.source = first.source and s.payload_hash = first.payload_hash and s.id <> first.id`)
    this.addSql('drop index signal_content_unique')
    this.addSql('create unique index signal_payload_unique on signal (source, payload_hash) where duplicate_of is null')
  }

  override async down (): Promise<void> {
    this.addSql('drop index if exists signal_payload_unique')
    this.addSql("create unique index signal_content_unique on signal (source, coalesce(source_id, ''), payload_hash) where delivery_id is null")
    this.addSql('alter table signal drop column duplicate_of')
  }
}
