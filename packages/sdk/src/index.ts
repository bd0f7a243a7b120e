// @loop/sdk: everything an integrator or agent needs to talk to Loop from TypeScript, on any
// runtime with fetch and Web Crypto (Node ≥ 20, Deno, Bun, Workers, browsers):
// - createClient: the typed REST client with timeouts, retries and `paginate` (client.ts);
// - LoopError: a failed answer as an Error, its `code` the contract's ErrorCode union;
// - verifyWebhook: replay-proof signature check for receivers of Loop's outbound webhooks;
// - and, from @loop/contracts, validateEvent and the built-in event types.
export { createClient, type LoopClient, type LoopClientOptions, type Schemas, type ErrorEnvelope, type components, type operations, type paths } from './client.ts'
export { LoopError, type ErrorCode, type LoopErrorCode } from './errors.ts'
export { defaultRetryDelaysMs, defaultTimeoutMs, type RetryInfo } from './retry.ts'
export type { ListItem, ListPath, ListQuery, Paginate, PaginateOptions } from './paginate.ts'
export { verifyLoopSignatureWithoutReplayProtection, verifyWebhook, webhookToleranceSeconds, WebhookVerificationError, type WebhookHeaders, type WebhookMessage, type WebhookVerificationErrorCode } from './verify-webhook.ts'
export * from '@loop/contracts'
