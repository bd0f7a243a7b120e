// API key material (docs/api.md#api-keys): `lk_<env>_<random base62>`, stored only as a SHA-256 hash
// next to a short visible prefix. Pure functions; the database side lives in key-service.ts.
import { createHash, randomBytes } from 'node:crypto'
import type { components } from '../../generated/openapi.ts'

export type KeyEnv = components['schemas']['KeyEnv']
export type KeyTier = components['schemas']['KeyTier']
export type Scope = components['schemas']['Scope']

export const keyEnvs: readonly KeyEnv[] = ['live', 'test', 'dev']
export const keyTiers: readonly KeyTier[] = ['standard', 'premium']
export const scopes: readonly Scope[] = ['admin', 'events:write', 'events:read', 'schemas:write', 'webhooks:manage', 'issues:read', 'issues:write', 'signals:read']

/** Random characters after `lk_<env>_`: 40 base62 characters are about 238 bits. */
export const KEY_RANDOM_LENGTH = 40
/** Random characters kept visible in the prefix (`lk_live_AbCd`): enough to tell keys apart, useless to guess them. */
const VISIBLE_RANDOM_CHARS = 4

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'
// 248 = 4 × 62: bytes 248–255 are discarded, so every byte kept maps onto 62 symbols evenly.
const UNBIASED_BYTE_LIMIT = 248

// Accepts longer random parts than Loop generates (LOOP_ADMIN_KEY may be operator-made), capped
// so an absurd header never reaches the hash or the database.
const keyPattern = /^lk_(live|test|dev)_[A-Za-z0-9]{32,256}$/

export const isKeyEnv = (value: string): value is KeyEnv => (keyEnvs as readonly string[]).includes(value)
export const isKeyTier = (value: string): value is KeyTier => (keyTiers as readonly string[]).includes(value)
export const isScope = (value: string): value is Scope => (scopes as readonly string[]).includes(value)

/** `length` characters from [0-9A-Za-z], uniformly: rejection sampling over random bytes, no modulo bias. */
export function randomBase62 (length: number, random: (size: number) => Buffer = randomBytes): string {
  let out = ''
  while (out.length < length) {
    // 248/256 of the bytes are kept, so this usually needs a single draw.
    for (const byte of random(Math.ceil((length - out.length) * 1.1) + 4)) {
      if (byte >= UNBIASED_BYTE_LIMIT) continue
      out += BASE62[byte % 62]
      if (out.length === length) break
    }
  }
  return out
}

/** The SHA-256 of the whole key, hex: what the database stores and looks keys up by. */
export function hashApiKey (secret: string): string {
  return createHash('sha256').update(secret).digest('hex')
}

/** `lk_live_AbCd…` → `lk_live_AbCd`: what listings show. */
export function visiblePrefix (secret: string): string {
  const env = parseApiKey(secret)
  if (env === null) throw new Error('not an API key')
  return secret.slice(0, `lk_${env}_`.length + VISIBLE_RANDOM_CHARS)
}

/** The key's env when `text` is shaped like a Loop key, else null (no lookup needed to reject it). */
export function parseApiKey (text: string): KeyEnv | null {
  const match = keyPattern.exec(text)
  return match === null ? null : match[1] as KeyEnv
}

export interface GeneratedKey {
  /** The key itself, shown to its owner once. */
  secret: string
  hash: string
  prefix: string
}

export function generateApiKey (env: KeyEnv): GeneratedKey {
  const secret = `lk_${env}_${randomBase62(KEY_RANDOM_LENGTH)}`
  return { secret, hash: hashApiKey(secret), prefix: visiblePrefix(secret) }
}

/** `admin` grants every scope; otherwise the key must hold each scope `required` lists. */
export function grantsScopes (held: readonly string[], required: readonly string[]): boolean {
  return held.includes('admin') || required.every((scope) => held.includes(scope))
}

/** `Bearer <key>` → the key; null when the header is absent or not a Bearer credential. */
export function bearerToken (authorization: string | undefined): string | null {
  if (authorization === undefined) return null
  const match = /^Bearer +(\S+) *$/i.exec(authorization)
  return match?.[1] ?? null
}
