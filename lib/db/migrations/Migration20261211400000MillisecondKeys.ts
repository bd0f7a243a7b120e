// A list's iterator carries its last row's timestamp in milliseconds (JSON and JavaScript's Date
// hold no finer), so the columns lists are ordered by hold milliseconds, as every later table's
// do. brand and api_key kept microseconds: rows created in the same millisecond as a page's last
// row, a few microseconds before it, compared as later than the iterator and fell between pages.
// Existing values are rounded to the millisecond (PostgreSQL rounds fractional seconds).
import { Migration } from '@mikro-orm/migrations'

export class Migration20261211400000MillisecondKeys extends Migration {
  override up (): void {
    this.addSql('alter table brand alter column created_at type timestamptz(3)')
    this.addSql('alter table api_key alter column created_at type timestamptz(3)')
  }

  override down (): void {
    this.addSql('alter table api_key alter column created_at type timestamptz')
    this.addSql('alter table brand alter column created_at type timestamptz')
  }
}
