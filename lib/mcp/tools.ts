// The MCP tools (SPEC section 9). Each one mirrors a REST operation: its input schema is that
// operation's generated schema, its scopes are that operation's `security` in the contract, and it
// calls the same service function the route calls, so MCP and REST cannot drift apart.
import type { EntityManager } from '@mikro-orm/postgresql'
import { Type, type Static, type TSchema } from '@sinclair/typebox'
import * as ops from '../../generated/operations.ts'
import type { IssuePriority } from '../db/entities/issue.ts'
import { notFound } from '../errors.ts'
import { declareEventType, schemaView } from '../events/declare.ts'
import type { EventTypeRegistry } from '../events/registry.ts'
import { sendEvent } from '../events/send-event.ts'
import { claimIdempotencyKey, idempotencyScope, releaseIdempotencyKey } from '../idempotency/idempotency-key.ts'
import { claimNextIssue } from '../issues/claim-next-issue.ts'
import { toIssueResource } from '../issues/issue-resource.ts'
import { listIssues } from '../issues/list-issues.ts'
import { updateIssue } from '../issues/update-issue.ts'
import { createBrand } from '../keys/key-service.ts'
import type { Caller } from '../tenancy/caller.ts'
import { bearerRequirement } from '../keys/route-security.ts'
import type { Scope } from '../keys/api-key.ts'
import { listSignals } from '../signals/list-signals.ts'
import { createEndpoint, type DestinationPolicy } from '../webhooks/endpoints.ts'

/**
 * What a tool call runs with: a fresh EntityManager fork, the caller (the key that authenticated
 * /mcp, the same context REST routes read as `request.caller`), the app's services.
 */
export interface ToolContext {
  em: EntityManager
  caller: Caller
  eventTypes: EventTypeRegistry
  webhookPolicy: DestinationPolicy
}

export interface McpTool {
  name: string
  description: string
  /** A JSON Schema object: what `tools/list` shows and what arguments are validated against. */
  inputSchema: TSchema
  /** Query-string schemas were written for coerced text (`status=todo` is `['todo']`); bodies are strict. */
  coerce: boolean
  /** The REST operation's scope alternatives (null: public), as plugins/auth.ts reads them. */
  scopes: Scope[][] | null
  run: (args: unknown, context: ToolContext) => Promise<unknown>
}


function tool<S extends TSchema> (definition: {
  name: string
  description: string
  operation: { schema: object }
  inputSchema: S
  coerce?: boolean
  run: (args: Static<S>, context: ToolContext) => Promise<unknown>
}): McpTool {
  return {
    name: definition.name,
    description: definition.description,
    inputSchema: definition.inputSchema,
    coerce: definition.coerce ?? false,
    scopes: bearerRequirement((definition.operation.schema as { security?: unknown }).security)?.alternatives ?? null,
    // Arguments reach `run` only after validation against `inputSchema` (lib/mcp/server.ts).
    run: async (args, context) => await definition.run(args as Static<S>, context)
  }
}

// issues.update takes the path's id next to the body's changes, each under its generated schema.
const issueIdSchema = (ops.updateIssue.schema.params as unknown as { properties: { id: TSchema } }).properties.id
const updateIssueInput = Type.Object({
  id: Type.Unsafe<string>(issueIdSchema),
  changes: ops.updateIssue.schema.body
}, { additionalProperties: false })

// events.send takes the body of POST /api/events plus its Idempotency-Key header as an argument.
const sendEventBody = (ops.sendEvent.schema.body as unknown as { properties: { event: TSchema, payload: TSchema } }).properties
const idempotencyKeySchema = (ops.sendEvent.schema.headers as unknown as { properties: Record<'idempotency-key', TSchema> }).properties['idempotency-key']
const sendEventInput = Type.Object({
  event: Type.Unsafe<string>(sendEventBody.event),
  payload: Type.Unsafe<Record<string, unknown>>(sendEventBody.payload),
  idempotencyKey: Type.Optional(Type.Unsafe<string>({ ...idempotencyKeySchema, description: 'Like the Idempotency-Key header: the same key and body within 24 hours replay the first result.' }))
}, { additionalProperties: false })

export const mcpTools: readonly McpTool[] = [
  tool({
    name: 'events.declare',
    description: 'Declare an event type version (fields), an inbound webhook route for it, or both (POST /api/events/types; scope schemas:write).',
    operation: ops.declareEventType,
    inputSchema: ops.declareEventType.schema.body,
    run: async (args, { em, caller, eventTypes }) => await declareEventType(em, eventTypes, args, caller)
  }),
  tool({
    name: 'events.schema',
    description: 'The fields and JSON Schema an event type\'s payload must match (GET /api/events/schema/{name}; public).',
    operation: ops.getEventSchema,
    inputSchema: ops.getEventSchema.schema.params,
    run: async ({ name }, { em, caller, eventTypes }) => {
      const type = await eventTypes.get(em, caller.brandId, name)
      if (type === null) throw notFound(`Event type ${name} is not declared`)
      return schemaView(type)
    }
  }),
  tool({
    name: 'events.send',
    description: 'Send a typed event; the payload is validated against its declared type. Pass idempotencyKey (e.g. the eventId) to make retries safe (POST /api/events; scope events:write).',
    operation: ops.sendEvent,
    inputSchema: sendEventInput,
    run: async ({ event, payload, idempotencyKey }, { em, caller, eventTypes }) => {
      if (idempotencyKey === undefined) return JSON.parse(await sendEvent(em, eventTypes, { event, payload }, caller, null)) as unknown
      // The same key as REST's Idempotency-Key: a retry over MCP or REST replays the first answer.
      const scope = idempotencyScope(caller.keyId, idempotencyKey, { operation: 'POST /api/events', body: { event, payload } })
      const claimed = await claimIdempotencyKey(em, scope)
      if (claimed.kind === 'replay') return { ...JSON.parse(claimed.body) as Record<string, unknown>, idempotentReplayed: true }
      try {
        return JSON.parse(await sendEvent(em, eventTypes, { event, payload }, caller, scope)) as unknown
      } catch (error) {
        await releaseIdempotencyKey(em, scope)
        throw error
      }
    }
  }),
  tool({
    name: 'brands.create',
    description: 'Create a brand and its first API key; the key\'s secret is shown once (POST /api/brands; scope admin).',
    operation: ops.createBrand,
    inputSchema: ops.createBrand.schema.body,
    run: async (args, { em, caller }) => ({ ok: true, ...await createBrand(em, args, caller) })
  }),
  tool({
    name: 'issues.list',
    description: 'List issues, most urgent first, filtered by status, type and priority, with cursor pagination (GET /api/issues; scope issues:read).',
    operation: ops.listIssues,
    inputSchema: ops.listIssues.schema.querystring,
    coerce: true,
    run: async ({ priority, limit, iterator, ...filters }, { em, caller }) =>
      // The schema admits only 1–4, which is what IssuePriority names.
      await listIssues(em, caller, { ...filters, priority: priority as IssuePriority[] | undefined }, { limit, iterator })
  }),
  tool({
    name: 'issues.claim',
    description: 'Atomically claim the most urgent unclaimed triage/todo issue for `agent` (now in_progress); `issue` is null when there is nothing to claim (POST /api/issues/claim; scope issues:write).',
    operation: ops.claimIssue,
    inputSchema: ops.claimIssue.schema.body,
    run: async ({ agent, types }, { em, caller }) => {
      const issue = await claimNextIssue(em, caller, agent, types)
      return { ok: true, issue: issue === null ? null : toIssueResource(issue) }
    }
  }),
  tool({
    name: 'issues.update',
    description: 'Change an issue\'s fields; status changes follow the workflow (PATCH /api/issues/{id}; scope issues:write).',
    operation: ops.updateIssue,
    inputSchema: updateIssueInput,
    run: async ({ id, changes }, { em, caller }) => ({ ok: true, issue: toIssueResource(await updateIssue(em, caller, id, changes)) })
  }),
  tool({
    name: 'signals.list',
    description: 'List signals (provider webhooks for the operator, Loop\'s endpoint alerts for a brand), newest first, filtered by source and severity (GET /api/signals; scope signals:read).',
    operation: ops.listSignals,
    inputSchema: ops.listSignals.schema.querystring,
    coerce: true,
    run: async ({ limit, iterator, ...filters }, { em, caller }) => await listSignals(em, caller, filters, { limit, iterator })
  }),
  tool({
    name: 'webhooks.create',
    description: 'Register an outbound webhook endpoint for event types; its signing secret is shown once (POST /api/webhooks; scope webhooks:manage).',
    operation: ops.createWebhook,
    inputSchema: ops.createWebhook.schema.body,
    run: async (args, { em, caller, webhookPolicy }) => await createEndpoint(em, args, caller, webhookPolicy)
  })
]
