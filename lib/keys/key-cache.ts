// Keys by the hash of their secret, in process, so an authenticated request normally costs no
// query (docs/api.md#api-keys). Only keys found are kept: a miss reads the database every time, so
// a key made on another instance works at once. Every change to a key NOTIFYs `keyChangesChannel`
// with its id in the changing transaction (key-service.ts); each instance LISTENs and forgets it
// (plugins/auth.ts), and the instance that made the change forgets it on commit.
import { LRUCache } from 'lru-cache'
import { ChangeGuard } from '../cache/change-guard.ts'
import type { AuthenticatedKey } from './key-service.ts'

export const keyChangesChannel = 'loop_api_keys'

/** What authentication needs of a key, revoked or not (a revoked key stays revoked, so it is kept too). */
export interface CachedKey extends AuthenticatedKey {
  revokedAt: Date | null
}

export interface KeyCacheOptions {
  /** Keys kept; the least recently used goes first. */
  max?: number
  /** A safety net only (changes arrive by NOTIFY): an entry is read again after this long. */
  ttlMs?: number
}

export class KeyCache {
  private readonly byHash: LRUCache<string, CachedKey>
  private readonly guard = new ChangeGuard()

  constructor (options: KeyCacheOptions = {}) {
    this.byHash = new LRUCache({ max: options.max ?? 10_000, ttl: options.ttlMs ?? 5 * 60_000 })
  }

  /** The key with this hash: from the cache, else from `load` (a database read), kept if found. */
  async get (hash: string, load: () => Promise<CachedKey | null>): Promise<CachedKey | null> {
    const hit = this.byHash.get(hash)
    if (hit !== undefined) return hit
    const keep = this.guard.begin()
    const loaded = await load()
    if (loaded === null) return null
    const key = Object.freeze({ ...loaded, scopes: Object.freeze([...loaded.scopes]) })
    if (keep()) this.byHash.set(hash, key)
    return key
  }

  /** The key with this id changed: its next use reads the database. */
  forget (keyId: string): void {
    this.guard.changed()
    const hashes = [...this.byHash.entries()].filter(([, key]) => key.keyId === keyId).map(([hash]) => hash)
    for (const hash of hashes) this.byHash.delete(hash)
  }

  /** Changes may go unannounced from now on (the listening connection dropped): keep nothing. */
  suspend (): void {
    this.guard.suspend()
    this.byHash.clear()
  }

  /** Changes are announced again; anything kept before may have missed one. */
  resume (): void {
    this.byHash.clear()
    this.guard.resume()
  }

  get size (): number {
    return this.byHash.size
  }
}
