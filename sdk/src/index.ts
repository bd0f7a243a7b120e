// @loop/sdk: everything an integrator or agent needs to talk to Loop from TypeScript.
// - createClient: the typed REST client (openapi-fetch over types generated from openapi/loop.yaml)
// - validateEvent: the server's own event validation, run locally (same issues as a 422)
// - verifyWebhook: replay-proof signature check for receivers of Loop's outbound webhooks
export { createClient, type LoopClient, type LoopClientOptions, type Schemas, type ErrorEnvelope, type components, type operations, type paths } from './client.ts'
export { validateEvent, type EventSchema, type FieldSpec, type FieldSpecs, type ValidateEventResult, type ValidationIssue } from '../../lib/events/validate-event.ts'
export { verifyLoopSignatureWithoutReplayProtection, verifyWebhook, WebhookVerificationError, type WebhookHeaders, type WebhookMessage, type WebhookVerificationErrorCode } from './verify-webhook.ts'
