// The MCP server behind /mcp: lists the tools with their generated JSON Schemas and runs a call
// as scope check → argument validation → service. Every failure is a tool error (`isError: true`)
// carrying the SPEC envelope's `{code, message, issues?}`, never a JSON-RPC crash.
import type { EntityManager } from '@mikro-orm/postgresql'
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import { CallToolRequestSchema, ListToolsRequestSchema, type CallToolResult } from '@modelcontextprotocol/sdk/types.js'
import type { ValidateFunction } from 'ajv'
import { AppError, notFound, validationError } from '../errors.ts'
import { assertScopes } from '../keys/route-security.ts'
import { createAjv } from '../validation/ajv.ts'
import { issuesFromAjv } from '../validation/issues.ts'
import type { McpTool, ToolContext } from './tools.ts'

export interface CompiledTool extends McpTool {
  validate: ValidateFunction
}

/** Compiles every tool's input schema once, at start-up, with the app's Ajv settings. */
export function compileTools (tools: readonly McpTool[]): Map<string, CompiledTool> {
  const strict = createAjv({ coerceTypes: false })
  const coercing = createAjv({ coerceTypes: 'array' })
  return new Map(tools.map((tool) => [tool.name, { ...tool, validate: (tool.coerce ? coercing : strict).compile(tool.inputSchema) }]))
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

export async function callTool (tools: Map<string, CompiledTool>, name: string, args: unknown, context: CallContext): Promise<CallToolResult> {
  try {
    const tool = tools.get(name)
    if (tool === undefined) throw notFound(`Unknown tool ${name}`)
    if (tool.scopes !== null) assertScopes(context.caller.scopes, tool.scopes)
    // Validated in place (defaults filled, query-style values coerced), as Fastify does for REST.
    const input = args ?? {}
    if (!tool.validate(input)) throw validationError(issuesFromAjv(tool.validate.errors))
    const result = await tool.run(input, { em: context.forkEm(), caller: context.caller, eventTypes: context.eventTypes, webhookPolicy: context.webhookPolicy })
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

/** One server per HTTP request (stateless transport): it knows the key that request authenticated. */
export function createMcpServer (tools: Map<string, CompiledTool>, context: CallContext, version: string): McpServer {
  const mcp = new McpServer({ name: 'loop', version }, { capabilities: { tools: {} } })
  // The low-level handlers take JSON Schema as is; McpServer.registerTool would want Zod shapes.
  mcp.server.setRequestHandler(ListToolsRequestSchema, () => ({
    tools: [...tools.values()].map((tool) => ({
      name: tool.name,
      description: tool.description,
      inputSchema: tool.inputSchema as unknown as { type: 'object', [key: string]: unknown }
    }))
  }))
  mcp.server.setRequestHandler(CallToolRequestSchema, async (request) => await callTool(tools, request.params.name, request.params.arguments, context))
  return mcp
}
