// The MCP server behind /mcp: lists the tools (name, title, contract-described input schema,
// annotations) and runs a call as scope check → argument validation → service. A call the server
// can run but that fails is a tool error (`isError: true`) carrying the SPEC envelope's
// `{code, message, issues?}`, so the model reads it and corrects itself (invalid arguments too, as
// the 2025-11-25 protocol asks); a tool that does not exist is a protocol error, JSON-RPC -32602.
import type { EntityManager } from '@mikro-orm/postgresql'
import { Server } from '@modelcontextprotocol/sdk/server/index.js'
import { CallToolRequestSchema, ErrorCode, ListToolsRequestSchema, McpError, type CallToolResult, type Tool } from '@modelcontextprotocol/sdk/types.js'
import type { ValidateFunction } from 'ajv'
import type { Contract } from '../contract/openapi.ts'
import { AppError, validationError } from '../errors.ts'
import { assertScopes } from '../keys/route-security.ts'
import { createAjv } from '../validation/ajv.ts'
import { issuesFromAjv } from '../validation/issues.ts'
import { contractDocs, withDescriptions } from './describe.ts'
import { ToolText, type McpTool, type ToolContext } from './tools.ts'

export interface CompiledTool extends McpTool {
  validate: ValidateFunction
  /** What `tools/list` shows for this tool. */
  definition: Tool
}

// One pair per process: Ajv keeps what it compiled by schema object, and the tools' schemas are
// module constants, so a second compileTools (another app in the same process) compiles nothing.
const strict = createAjv({ coerceTypes: false })
const coercing = createAjv({ coerceTypes: 'array' })

/**
 * Compiles every tool's input schema once, at start-up, with the app's Ajv settings, and describes
 * its arguments from the contract (lib/mcp/describe.ts).
 */
export function compileTools (tools: readonly McpTool[], contract: Contract): Map<string, CompiledTool> {
  const docs = contractDocs(contract)
  return new Map(tools.map((tool) => [tool.name, {
    ...tool,
    validate: (tool.coerce ? coercing : strict).compile(tool.inputSchema),
    definition: {
      name: tool.name,
      title: tool.title,
      description: tool.description,
      // JSON, not TypeBox: the listed schema carries no symbols and no TypeBox metadata.
      inputSchema: JSON.parse(JSON.stringify(withDescriptions(tool.inputSchema, tool.documented(docs(tool.operationId)), contract.deref))) as Tool['inputSchema'],
      // `title` again for clients of the 2025-03-26 protocol, which read it only here.
      annotations: { title: tool.title, ...tool.annotations }
    }
  }]))
}

function toolError (error: AppError): CallToolResult {
  const { code, message, issues } = error.toEnvelope().error
  return { isError: true, content: [{ type: 'text', text: JSON.stringify({ code, message, ...(issues === undefined ? {} : { issues }) }) }] }
}

export interface CallContext extends Omit<ToolContext, 'em'> {
  /** A fresh fork per call: calls never share an identity map. */
  forkEm: () => EntityManager
  /** Where unexpected errors are reported; the caller only sees INTERNAL_ERROR. */
  logError: (error: unknown, toolName: string) => void
}

/** Throws McpError -32602 for a tool that does not exist; every other failure is a tool error. */
export async function callTool (tools: Map<string, CompiledTool>, name: string, args: unknown, context: CallContext): Promise<CallToolResult> {
  const tool = tools.get(name)
  if (tool === undefined) throw new McpError(ErrorCode.InvalidParams, `Unknown tool: ${name}. tools/list names the tools this server has.`)
  try {
    if (tool.scopes !== null) assertScopes(context.caller.scopes, tool.scopes)
    // Validated in place (defaults filled, query-style values coerced), as Fastify does for REST.
    const input = args ?? {}
    if (!tool.validate(input)) throw validationError(issuesFromAjv(tool.validate.errors))
    const result = await tool.run(input, { em: context.forkEm(), caller: context.caller, eventTypes: context.eventTypes, storeEvent: context.storeEvent, webhookPolicy: context.webhookPolicy })
    if (result instanceof ToolText) return { content: [{ type: 'text', text: result.text }] }
    return {
      content: [{ type: 'text', text: JSON.stringify(result) }],
      ...(result !== null && typeof result === 'object' && !Array.isArray(result) ? { structuredContent: result as Record<string, unknown> } : {})
    }
  } catch (error) {
    if (error instanceof AppError) return toolError(error)
    context.logError(error, name)
    return toolError(new AppError(500, 'INTERNAL_ERROR', 'Internal server error'))
  }
}

/**
 * One server per HTTP request (stateless transport): it knows the key that request authenticated.
 * The low-level Server, because its tools are JSON Schema (McpServer.registerTool wants Zod), and
 * because McpServer advertises `tools.listChanged`, a notification a stateless server never sends:
 * this one advertises `tools` and nothing else.
 */
export function createMcpServer (tools: Map<string, CompiledTool>, context: CallContext, version: string): Server {
  const server = new Server({ name: 'loop', title: 'Loop', version }, { capabilities: { tools: {} } })
  const definitions = [...tools.values()].map((tool) => tool.definition)
  server.setRequestHandler(ListToolsRequestSchema, () => ({ tools: definitions }))
  server.setRequestHandler(CallToolRequestSchema, async (request) => await callTool(tools, request.params.name, request.params.arguments, context))
  return server
}
