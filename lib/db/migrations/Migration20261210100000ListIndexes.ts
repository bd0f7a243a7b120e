// Every list reads its page through an index in its order with the owner and the position as
// bounds of the scan (test/lib/db/list-plans.test.ts EXPLAINs each): a brand's key filters by
// (brand_id, env), the operator's by env alone, so each list has one index of each, and the
// optional filters lists are most often read by (an event's type, a delivery's status) lead too.
// The env-less indexes they replace made the operator's lists check env row by row.
import { Migration } from '@mikro-orm/migrations'

const created: Array<[name: string, definition: string]> = [
  ['event_env_received_at_idx', 'event (env, received_at desc, id desc)'],
  ['event_env_name_received_at_idx', 'event (env, name, received_at desc, id desc)'],
  ['event_owner_name_received_at_idx', 'event (brand_id, env, name, received_at desc, id desc)'],
  ['signal_env_recent', 'signal (env, created_at desc, id desc)'],
  ['issue_env_by_priority', 'issue (env, priority, number)'],
  ['event_rejection_env_created_at_idx', 'event_rejection (env, created_at desc, id desc)'],
  ['event_rejection_owner_created_at_idx', 'event_rejection (brand_id, env, created_at desc, id desc)'],
  ['webhook_endpoint_env_list_idx', 'webhook_endpoint (env, created_at desc, id desc)'],
  ['webhook_endpoint_owner_list_idx', 'webhook_endpoint (brand_id, env, created_at desc, id desc)'],
  ['webhook_delivery_status_log_idx', 'webhook_delivery (endpoint_id, status, created_at desc, id desc)'],
  ['event_type_name_idx', 'event_type (name, id)'],
  ['brand_created_at_idx', 'brand (created_at desc, id desc)'],
  ['api_key_env_created_at_idx', 'api_key (env, created_at desc, id desc)'],
  ['api_key_owner_created_at_idx', 'api_key (brand_id, env, created_at desc, id desc)']
]

const replaced: Array<[name: string, definition: string]> = [
  ['event_received_at_idx', 'event (received_at desc, id desc)'],
  ['event_name_received_at_idx', 'event (name, received_at desc, id desc)'],
  ['signal_recent', 'signal (created_at desc, id desc)'],
  ['issue_by_priority', 'issue (priority, number)'],
  ['event_rejection_created_at_idx', 'event_rejection (created_at desc, id desc)'],
  ['webhook_endpoint_list_idx', 'webhook_endpoint (created_at desc, id desc)'],
  ['api_key_brand_id_idx', 'api_key (brand_id)']
]

export class Migration20261210100000ListIndexes extends Migration {
  override async up (): Promise<void> {
    for (const [name, definition] of created) this.addSql(`create index ${name} on ${definition}`)
    this.addSql("create index issue_env_claimable on issue (env, priority, number) where status in ('triage', 'todo')")
    for (const [name] of replaced) this.addSql(`drop index ${name}`)
    this.addSql('drop index issue_claimable')
  }

  override async down (): Promise<void> {
    for (const [name, definition] of replaced) this.addSql(`create index ${name} on ${definition}`)
    this.addSql("create index issue_claimable on issue (priority, number) where status in ('triage', 'todo')")
    for (const [name] of created) this.addSql(`drop index ${name}`)
    this.addSql('drop index issue_env_claimable')
  }
}
