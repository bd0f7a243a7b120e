// The MCP tools (docs/agents.md#the-tools). Each one mirrors a REST operation: its input schema is that
// operation's generated schema, described in `tools/list` with the contract's own descriptions
// (lib/mcp/describe.ts); its scopes are that operation's `security` in the contract; it calls the
// same service function the route calls and answers what the route answers, so MCP and REST
// cannot drift apart. Names are snake_case (`^[a-z][a-z0-9_]{0,39}$`): the Anthropic and OpenAI
// tool APIs, Claude Desktop and Cursor refuse the seeds' dotted names (`events.declare`).
import type { EntityManager } from '@mikro-orm/postgresql'
import type { ToolAnnotations } from '@modelcontextprotocol/sdk/types.js'
import { Type, type Static, type TSchema } from '@sinclair/typebox'
import * as ops from '../../generated/operations.ts'
import { componentSchemas } from '../../generated/schemas.ts'
import { inlineComponents, type JsonSchema } from '../contract/openapi.ts'
import type { IssuePriority } from '../db/entities/issue.ts'
import { notFound } from '../errors.ts'
import { declareEventType, schemaView } from '../events/declare.ts'
import type { EventTypeRegistry } from '../events/registry.ts'
import { sendEvent, type EventStore } from '../events/send-event.ts'
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
import { createEndpoint, type DestinationPolicy } from '../outbound/endpoints.ts'
import type { OperationDocs } from './describe.ts'

/**
 * What a tool call runs with: a fresh EntityManager fork, the caller (the key that authenticated
 * /mcp, the same context REST routes read as `request.caller`), the app's services.
 */
export interface ToolContext {
  em: EntityManager
  caller: Caller
  eventTypes: EventTypeRegistry
  /** The group commit's event writer (fastify.ingest.storeEvent). */
  storeEvent: EventStore
  webhookPolicy: DestinationPolicy
}

/** A result that is a sentence, not a resource: what REST answers with an empty 204. */
export class ToolText {
  constructor (readonly text: string) {}
}

/**
 * The hints MCP clients show before a call, all four given (the protocol's defaults assume a
 * destructive, open-world tool). `openWorldHint` is true when the call's effect leaves Loop: an
 * event or an issue change is POSTed to the webhook endpoints subscribed to it, or the call names
 * a URL Loop will POST to.
 */
export type Hints = Required<Pick<ToolAnnotations, 'readOnlyHint' | 'destructiveHint' | 'idempotentHint' | 'openWorldHint'>>

export interface McpTool {
  name: string
  /** For people: what a client shows in its tool list and permission prompts. */
  title: string
  description: string
  annotations: Hints
  /** A JSON Schema object: what `tools/list` shows and what arguments are validated against. */
  inputSchema: TSchema
  /** The operation this tool mirrors, and where in it the contract documents each argument. */
  operationId: string
  documented: (docs: OperationDocs) => JsonSchema
  /** Query-string schemas were written for coerced text (`status=todo` is `['todo']`); bodies are strict. */
  coerce: boolean
  /** The REST operation's scope alternatives (null: public), as plugins/auth.ts reads them. */
  scopes: Scope[][] | null
  run: (args: unknown, context: ToolContext) => Promise<unknown>
}


function tool<S extends TSchema> (definition: {
  name: string
  title: string
  description: string
  annotations: Hints
  operation: { schema: { operationId: string } }
  inputSchema: S
  documented: (docs: OperationDocs) => JsonSchema
  coerce?: boolean
  run: (args: Static<S>, context: ToolContext) => Promise<unknown>
}): McpTool {
  return {
    name: definition.name,
    title: definition.title,
    description: definition.description,
    annotations: definition.annotations,
    inputSchema: standalone(definition.inputSchema),
    operationId: definition.operation.schema.operationId,
    documented: definition.documented,
    coerce: definition.coerce ?? false,
    scopes: bearerRequirement((definition.operation.schema as { security?: unknown }).security)?.alternatives ?? null,
    // Arguments reach `run` only after validation against `inputSchema` (lib/mcp/server.ts).
    run: async (args, context) => await definition.run(args as Static<S>, context)
  }
}

// The generated schemas point at components (`{ $ref: 'Name#' }`) that only the app's registry
// resolves; a tool's input schema is read by MCP clients, so it carries them inlined.
const components = new Map(componentSchemas.map((schema) => [String(schema.$id), schema as JsonSchema]))
const standalone = <S extends TSchema> (schema: S): S => Type.Unsafe<Static<S>>(inlineComponents(schema, components)) as unknown as S

const propertiesOf = (schema: unknown) => (schema as { properties: Record<string, TSchema> }).properties
const object = (properties: Record<string, JsonSchema | undefined>): JsonSchema => ({ type: 'object', properties })

// issues_update takes the path's id next to the body's changes, each under its generated schema.
const updateIssueInput = Type.Object({
  id: Type.Unsafe<string>(propertiesOf(ops.updateIssue.schema.params).id),
  changes: standalone(ops.updateIssue.schema.body)
}, { additionalProperties: false })

// events_send takes the body of POST /api/events plus its Idempotency-Key header as an argument.
const sendEventBody = propertiesOf(standalone(ops.sendEvent.schema.body))
const sendEventInput = Type.Object({
  event: Type.Unsafe<string>(sendEventBody.event),
  payload: Type.Unsafe<Record<string, unknown>>(sendEventBody.payload),
  idempotencyKey: Type.Optional(Type.Unsafe<string>(propertiesOf(ops.sendEvent.schema.headers)['idempotency-key']))
}, { additionalProperties: false })

export const mcpTools: readonly McpTool[] = [
  tool({
    name: 'events_declare',
    title: 'Declare an event type',
    description: 'Declare an event type version (its fields), an inbound webhook route for it, or both. Declaring the same fields again changes nothing; re-declaring a route replaces its transform and secret (POST /api/events/types; scope schemas:write).',
    annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
    operation: ops.declareEventType,
    inputSchema: ops.declareEventType.schema.body,
    documented: (op) => op.body,
    run: async (args, { em, caller, eventTypes }) => (await declareEventType(em, eventTypes, args, caller)).declared
  }),
  tool({
    name: 'events_schema',
    title: 'Read an event type\'s schema',
    description: 'The fields and JSON Schema an event type\'s payload must match: the caller\'s brand\'s declaration of that name, else the built-in one (GET /api/events/schema/{name}; public).',
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    operation: ops.getEventSchema,
    inputSchema: ops.getEventSchema.schema.params,
    documented: (op) => op.params,
    run: async ({ name }, { em, caller, eventTypes }) => {
      const type = await eventTypes.get(em, caller.brandId, name)
      if (type === null) throw notFound(`Event type ${name} is not declared`)
      return schemaView(type)
    }
  }),
  tool({
    name: 'events_send',
    title: 'Send an event',
    description: 'Send a typed event; the payload is validated against its declared type, stored once per eventId, and delivered to the webhook endpoints subscribed to it. Answers `{ok, id, eventId, event, receivedAt, duplicate?}`: `id` is Loop\'s, `eventId` the payload\'s. Pass idempotencyKey (e.g. the eventId) to make retries safe; a replay adds `idempotentReplayed: true` (POST /api/events; scope events:write).',
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
    operation: ops.sendEvent,
    inputSchema: sendEventInput,
    documented: (op) => object({ ...propertiesOf(op.body), idempotencyKey: propertiesOf(op.headers)['idempotency-key'] }),
    run: async ({ event, payload, idempotencyKey }, { em, caller, eventTypes, storeEvent }) => {
      if (idempotencyKey === undefined) return JSON.parse(await sendEvent(storeEvent, em, eventTypes, { event, payload }, caller, null)) as unknown
      // The same key as REST's Idempotency-Key: a retry over MCP or REST replays the first answer.
      const scope = idempotencyScope(caller.keyId, idempotencyKey, { operation: 'POST /api/events', body: { event, payload } })
      const claimed = await claimIdempotencyKey(em, scope)
      if (claimed.kind === 'replay') return { ...JSON.parse(claimed.body) as Record<string, unknown>, idempotentReplayed: true }
      try {
        return JSON.parse(await sendEvent(storeEvent, em, eventTypes, { event, payload }, caller, scope)) as unknown
      } catch (error) {
        await releaseIdempotencyKey(em, scope)
        throw error
      }
    }
  }),
  tool({
    name: 'brands_create',
    title: 'Create a brand and its first API key',
    description: 'Create a brand and its first API key; answers `{brand, key}`, and the key\'s secret is shown once (POST /api/brands; scope admin).',
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
    operation: ops.createBrand,
    inputSchema: ops.createBrand.schema.body,
    documented: (op) => op.body,
    run: async (args, { em, caller }) => await createBrand(em, args, caller)
  }),
  tool({
    name: 'issues_list',
    title: 'List issues',
    description: 'List issues, most urgent first, filtered by status, type and priority. Answers `{data, iterator, prevIterator, done}`: pass `iterator` back for the next page (GET /api/issues; scope issues:read).',
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    operation: ops.listIssues,
    inputSchema: ops.listIssues.schema.querystring,
    documented: (op) => op.querystring,
    coerce: true,
    run: async ({ priority, limit, iterator, ...filters }, { em, caller }) =>
      // The schema admits only 1–4, which is what IssuePriority names.
      await listIssues(em, caller, { ...filters, priority: priority as IssuePriority[] | undefined }, { limit, iterator })
  }),
  tool({
    name: 'issues_claim',
    title: 'Claim the most urgent issue',
    description: 'Atomically claim the most urgent unclaimed triage/todo issue for `agent`: answers the issue, now in_progress and claimed by `agent`, or the text "No issue to claim" when there is none (POST /api/issues/claim; scope issues:write).',
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
    operation: ops.claimIssue,
    inputSchema: ops.claimIssue.schema.body,
    documented: (op) => op.body,
    run: async ({ agent, types }, { em, caller }) => {
      const issue = await claimNextIssue(em, caller, agent, types)
      return issue === null ? new ToolText('No issue to claim: nothing unclaimed in triage or todo matches. Try again later.') : toIssueResource(issue)
    }
  }),
  tool({
    name: 'issues_update',
    title: 'Update an issue',
    description: 'Change an issue\'s fields; status changes follow the workflow (a move it does not allow is CONFLICT; to triage or todo releases the claim). Answers the issue (PATCH /api/issues/{id}; scope issues:write).',
    annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: true },
    operation: ops.updateIssue,
    inputSchema: updateIssueInput,
    documented: (op) => object({ id: propertiesOf(op.params).id, changes: op.body }),
    run: async ({ id, changes }, { em, caller }) => toIssueResource(await updateIssue(em, caller, id, changes))
  }),
  tool({
    name: 'signals_list',
    title: 'List signals',
    description: 'List signals (provider webhooks for the operator, Loop\'s endpoint alerts for a brand), newest first, filtered by source and severity. Answers `{data, iterator, prevIterator, done}`: pass `iterator` back for the next page (GET /api/signals; scope signals:read).',
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    operation: ops.listSignals,
    inputSchema: ops.listSignals.schema.querystring,
    documented: (op) => op.querystring,
    coerce: true,
    run: async ({ limit, iterator, ...filters }, { em, caller }) => await listSignals(em, caller, filters, { limit, iterator })
  }),
  tool({
    name: 'webhooks_create',
    title: 'Register a webhook endpoint',
    description: 'Register an outbound webhook endpoint for event types; Loop will POST every matching event to its URL. Answers the endpoint with its signing secret, shown once (POST /api/webhooks; scope webhooks:manage).',
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
    operation: ops.createWebhook,
    inputSchema: ops.createWebhook.schema.body,
    documented: (op) => op.body,
    run: async (args, { em, caller, webhookPolicy }) => await createEndpoint(em, args, caller, webhookPolicy)
  })
]
