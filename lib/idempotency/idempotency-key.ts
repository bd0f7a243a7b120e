// Idempotency-Key, for every POST under /api (docs/api.md#idempotency), per API key, kept 24 hours.
// The key is claimed in its own committed row first, so a concurrent duplicate sees it at once
// (409 while in flight) instead of waiting. The response is recorded when it is sent
// (plugins/idempotency.ts); a service with a transaction records it inside that transaction
// instead (POST /api/events), so "stored" and "replayable" can never disagree there.
import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes } from 'node:crypto'
import type { EntityManager } from '@mikro-orm/postgresql'
import { canonicalJson } from '../canonical-json.ts'
import { AppError, conflict } from '../errors.ts'
import { sql } from '../db/sql.ts'
import type { ItemOutcome } from '../ingest/group-commit.ts'

export const idempotencyWindowMs = 24 * 60 * 60 * 1000
/** An in-flight claim older than this belongs to a request that died; a retry may take it over. */
export const abandonedAfterMs = 60 * 1000

/**
 * One request's claim. The table never holds what only the client knows: `idempotencyKey` is the
 * SHA-256 of the client's Idempotency-Key, and the recorded answer is sealed (AES-256-GCM) with a
 * key derived from the client's, so a create that answered a secret (a new API key, a webhook
 * secret) leaves nothing readable behind: only a retry that presents the same Idempotency-Key can
 * open its replay.
 */
export interface IdempotencyScope { keyId: string, idempotencyKey: string, requestHash: string, sealingKey: Buffer }

/** The scope of one request: the API key, its Idempotency-Key, and a hash of what it asks (operation and body). */
export function idempotencyScope (keyId: string, idempotencyKey: string, request: { operation: string, body: unknown }): IdempotencyScope {
  const requestHash = createHash('sha256').update(canonicalJson({ operation: request.operation, body: request.body ?? null })).digest('hex')
  return {
    keyId,
    idempotencyKey: createHash('sha256').update(idempotencyKey).digest('hex'),
    requestHash,
    sealingKey: createHmac('sha256', idempotencyKey).update(`loop idempotent response ${keyId}`).digest()
  }
}

/** The answer as the table keeps it: sealed with the client's key (see IdempotencyScope). */
export function sealedAnswer (scope: IdempotencyScope, body: string): string {
  const iv = randomBytes(12)
  const cipher = createCipheriv('aes-256-gcm', scope.sealingKey, iv)
  const sealed = Buffer.concat([cipher.update(body, 'utf8'), cipher.final()])
  return Buffer.concat([iv, cipher.getAuthTag(), sealed]).toString('base64')
}

function open (scope: IdempotencyScope, text: string): string {
  const raw = Buffer.from(text, 'base64')
  const decipher = createDecipheriv('aes-256-gcm', scope.sealingKey, raw.subarray(0, 12))
  decipher.setAuthTag(raw.subarray(12, 28))
  return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8')
}
export type IdempotencyClaim = { kind: 'claimed' } | { kind: 'replay', status: number, body: string }

interface Row { request_hash: string, state: string, response_status: number | null, response_body: string | null, created_at: Date, updated_at: Date }

export async function claimIdempotencyKey (em: EntityManager, scope: IdempotencyScope): Promise<IdempotencyClaim> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const inserted = await sql(em,
      "insert into idempotency_key (key_id, idempotency_key, request_hash, state) values (?, ?, ?, 'in_flight') on conflict do nothing returning 1",
      [scope.keyId, scope.idempotencyKey, scope.requestHash]
    )
    if (inserted.length > 0) return { kind: 'claimed' }
    const [row] = await sql<Row>(em,
      'select request_hash, state, response_status, response_body, created_at, updated_at from idempotency_key where key_id = ? and idempotency_key = ?',
      [scope.keyId, scope.idempotencyKey]
    )
    if (row === undefined) continue
    const now = Date.now()
    if (now - new Date(row.created_at).getTime() > idempotencyWindowMs) {
      // Expired: forget it (only if nobody else already replaced it) and claim afresh.
      await sql(em, 'delete from idempotency_key where key_id = ? and idempotency_key = ? and created_at = ?', [scope.keyId, scope.idempotencyKey, row.created_at])
      continue
    }
    if (row.request_hash !== scope.requestHash) {
      throw new AppError(422, 'IDEMPOTENCY_KEY_REUSED', 'This Idempotency-Key was already used with a different request body')
    }
    if (row.state === 'done' && row.response_status !== null && row.response_body !== null) {
      return { kind: 'replay', status: row.response_status, body: open(scope, row.response_body) }
    }
    if (now - new Date(row.updated_at).getTime() > abandonedAfterMs) {
      const taken = await sql(em,
        "update idempotency_key set updated_at = now() where key_id = ? and idempotency_key = ? and state = 'in_flight' and updated_at = ? returning 1",
        [scope.keyId, scope.idempotencyKey, row.updated_at]
      )
      if (taken.length > 0) return { kind: 'claimed' }
    }
    throw conflict('A request with this Idempotency-Key is still in flight; retry after it completes')
  }
  throw conflict('A request with this Idempotency-Key is still in flight; retry after it completes')
}

/**
 * Claims many keys at once, for requests arriving together (plugins/idempotency.ts batches them
 * like lib/ingest does writes): one insert claims every fresh key in one round trip and one
 * commit; a key already there (a retry, a replay, a concurrent duplicate, an expired row) goes
 * through claimIdempotencyKey alone, as it would have without company.
 */
export async function claimIdempotencyKeys (em: EntityManager, scopes: readonly IdempotencyScope[]): Promise<ItemOutcome<IdempotencyClaim>[]> {
  const inserted = await sql<{ key_id: string, idempotency_key: string }>(em,
    `insert into idempotency_key (key_id, idempotency_key, request_hash, state)
     select key_id, idempotency_key, request_hash, 'in_flight' from unnest(?::text[], ?::text[], ?::text[]) as t(key_id, idempotency_key, request_hash)
     on conflict do nothing returning key_id, idempotency_key`,
    [scopes.map((s) => s.keyId), scopes.map((s) => s.idempotencyKey), scopes.map((s) => s.requestHash)]
  )
  // Two requests with one key in the same insert: the row is the first's, the second finds it in flight.
  const fresh = new Set(inserted.map((row) => `${row.key_id} ${row.idempotency_key}`))
  const outcomes: ItemOutcome<IdempotencyClaim>[] = []
  for (const scope of scopes) {
    if (fresh.delete(`${scope.keyId} ${scope.idempotencyKey}`)) {
      outcomes.push({ ok: true, value: { kind: 'claimed' } })
      continue
    }
    try {
      outcomes.push({ ok: true, value: await claimIdempotencyKey(em, scope) })
    } catch (error) {
      outcomes.push({ ok: false, error })
    }
  }
  return outcomes
}

/** Records the response to replay (once: a response recorded inside a service's transaction stays). */
export async function completeIdempotencyKey (em: EntityManager, scope: IdempotencyScope, status: number, body: string): Promise<void> {
  await sql(em,
    "update idempotency_key set state = 'done', response_status = ?, response_body = ?, updated_at = now() where key_id = ? and idempotency_key = ? and state = 'in_flight'",
    [status, sealedAnswer(scope, body), scope.keyId, scope.idempotencyKey]
  )
}

/** Frees a claim whose request failed, so the client's retry runs again instead of replaying. */
export async function releaseIdempotencyKey (em: EntityManager, scope: IdempotencyScope): Promise<void> {
  await sql(em,
    "delete from idempotency_key where key_id = ? and idempotency_key = ? and state = 'in_flight'",
    [scope.keyId, scope.idempotencyKey]
  )
}

/**
 * Deletes up to `limit` expired keys (oldest first, through the created_at index) and says how
 * many; the retention job (lib/retention) repeats it until a batch comes back short, so the table
 * stays small without one long statement. An expired key is never replayed (claimIdempotencyKey
 * forgets it too), so deleting one changes no answer.
 */
export async function purgeExpiredIdempotencyKeys (em: EntityManager, limit = 1000): Promise<number> {
  const [row] = await sql<{ purged: number }>(em,
    `with expired as (
       select key_id, idempotency_key from idempotency_key
        where created_at < now() - ? * interval '1 millisecond'
        order by created_at limit ? for update skip locked
     ), purged as (
       delete from idempotency_key k using expired e where k.key_id = e.key_id and k.idempotency_key = e.idempotency_key returning 1
     )
     select count(*)::int as purged from purged`,
    [idempotencyWindowMs, limit]
  )
  return row?.purged ?? 0
}
