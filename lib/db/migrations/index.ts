// Migrations in the order they apply; each file is a MikroORM Migration class.
import type { MigrationObject } from '@mikro-orm/core'
import { Migration20261125100000Signals } from './Migration20261125100000Signals.ts'
import { Migration20261125110000Keys } from './Migration20261125110000Keys.ts'
import { Migration20261125120000Events } from './Migration20261125120000Events.ts'
import { Migration20261125130000Inbound } from './Migration20261125130000Inbound.ts'
import { Migration20261125140000Webhooks } from './Migration20261125140000Webhooks.ts'
import { Migration20261202100000Tenancy } from './Migration20261202100000Tenancy.ts'
import { Migration20261202110000SignalReplays } from './Migration20261202110000SignalReplays.ts'
import { Migration20261209100000SingularTables } from './Migration20261209100000SingularTables.ts'
import { Migration20261210100000ListIndexes } from './Migration20261210100000ListIndexes.ts'
import { Migration20261211100000FairClaims } from './Migration20261211100000FairClaims.ts'
import { Migration20261211110000CircuitBreaker } from './Migration20261211110000CircuitBreaker.ts'
import { Migration20261211120000OrderingAndRateLimit } from './Migration20261211120000OrderingAndRateLimit.ts'
import { Migration20261211200000EndpointTimeout } from './Migration20261211200000EndpointTimeout.ts'
import { Migration20261211210000EndpointHeaders } from './Migration20261211210000EndpointHeaders.ts'
import { Migration20261211300000Retention } from './Migration20261211300000Retention.ts'
import { Migration20261211400000MillisecondKeys } from './Migration20261211400000MillisecondKeys.ts'
import { Migration20261212200000PortalTokens } from './Migration20261212200000PortalTokens.ts'
import { Migration20261212300000DeliveryHealth } from './Migration20261212300000DeliveryHealth.ts'
import { Migration20261212400000DeliveryTrace } from './Migration20261212400000DeliveryTrace.ts'

export const migrationsList: MigrationObject[] = [
  { name: 'Migration20261125100000Signals', class: Migration20261125100000Signals },
  { name: 'Migration20261125110000Keys', class: Migration20261125110000Keys },
  { name: 'Migration20261125120000Events', class: Migration20261125120000Events },
  { name: 'Migration20261125130000Inbound', class: Migration20261125130000Inbound },
  { name: 'Migration20261125140000Webhooks', class: Migration20261125140000Webhooks },
  { name: 'Migration20261202100000Tenancy', class: Migration20261202100000Tenancy },
  { name: 'Migration20261202110000SignalReplays', class: Migration20261202110000SignalReplays },
  { name: 'Migration20261209100000SingularTables', class: Migration20261209100000SingularTables },
  { name: 'Migration20261210100000ListIndexes', class: Migration20261210100000ListIndexes },
  { name: 'Migration20261211100000FairClaims', class: Migration20261211100000FairClaims },
  { name: 'Migration20261211110000CircuitBreaker', class: Migration20261211110000CircuitBreaker },
  { name: 'Migration20261211120000OrderingAndRateLimit', class: Migration20261211120000OrderingAndRateLimit },
  { name: 'Migration20261211200000EndpointTimeout', class: Migration20261211200000EndpointTimeout },
  { name: 'Migration20261211210000EndpointHeaders', class: Migration20261211210000EndpointHeaders },
  { name: 'Migration20261211300000Retention', class: Migration20261211300000Retention },
  { name: 'Migration20261211400000MillisecondKeys', class: Migration20261211400000MillisecondKeys },
  { name: 'Migration20261212200000PortalTokens', class: Migration20261212200000PortalTokens },
  { name: 'Migration20261212300000DeliveryHealth', class: Migration20261212300000DeliveryHealth },
  { name: 'Migration20261212400000DeliveryTrace', class: Migration20261212400000DeliveryTrace }
]
