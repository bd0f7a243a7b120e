// Who is acting on webhooks: the authenticated API key (plugins/auth.ts) as the services need it.
import { unauthorized } from '../errors.ts'
import type { WebhookCaller } from './endpoints.ts'

export interface KeyLike { id: string, brandId: string | null, env: 'live' | 'test' | 'dev', scopes: readonly string[] }

export function webhookCaller (key: KeyLike | null | undefined): WebhookCaller {
  // Every webhooks operation declares bearer security, so the auth plugin has already set the key.
  if (key == null) throw unauthorized('Missing API key')
  return { keyId: key.id, brandId: key.brandId, env: key.env, scopes: key.scopes }
}
