// /mcp: the Model Context Protocol over Streamable HTTP (docs/agents.md#the-tools), stateless: one server and
// transport per POST. The contract's `security: [{ bearer: [] }]` gives this route the same guard
// as /api (401 without a valid key, the key's rate limit and X-RateLimit-* headers; a batch costs
// one token per call); each tool then checks the scope of the REST operation it mirrors (lib/mcp/tools.ts).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyRequest } from 'fastify'
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js'
import { endMcpSession, mcp as mcpOp, openMcpStream } from '../generated/operations.ts'
import { JSONRPCMessageSchema } from '@modelcontextprotocol/sdk/types.js'
import { MAX_BATCH_SIZE } from '@modelcontextprotocol/sdk/server/requestBody.js'
import { loadContract } from '../lib/contract/openapi.ts'
import { AppError, badRequest } from '../lib/errors.ts'
import { compileTools, createMcpServer } from '../lib/mcp/server.ts'
import { mcpTools } from '../lib/mcp/tools.ts'

const version = '0.1.0'

/**
 * What the transport would refuse itself, but in JSON-RPC's shape (406, 415, 400 -32700, a batch
 * over the SDK's MAX_BATCH_SIZE): checked first, so /mcp answers with the error envelope (docs/api.md#errors)
 * like every other route. Returns the number of JSON-RPC messages.
 */
function assertStreamableRequest (request: FastifyRequest): number {
  const accept = request.headers.accept ?? ''
  if (!accept.includes('application/json') || !accept.includes('text/event-stream')) {
    throw new AppError(406, 'NOT_ACCEPTABLE', 'Send Accept: application/json, text/event-stream (MCP Streamable HTTP)')
  }
  // Node keeps the first of repeated Content-Types, the transport reads them all: one, and JSON.
  const contentTypes = request.raw.rawHeaders.filter((_, i, all) => i % 2 === 1 && all[i - 1]?.toLowerCase() === 'content-type')
  if (contentTypes.length !== 1 || !(contentTypes[0] ?? '').includes('application/json')) {
    throw new AppError(415, 'UNSUPPORTED_MEDIA_TYPE', 'Unsupported Content-Type: send one Content-Type, application/json')
  }
  const messages: unknown[] = Array.isArray(request.body) ? request.body : [request.body]
  if (messages.length > MAX_BATCH_SIZE) throw badRequest(`A JSON-RPC batch holds at most ${MAX_BATCH_SIZE} messages`)
  if (messages.length === 0 || !messages.every((m) => JSONRPCMessageSchema.safeParse(m).success)) {
    throw badRequest('Body is not a JSON-RPC 2.0 message (or a batch of them)')
  }
  return messages.length
}

// Compiled and described once per process: the tools and the contract are the same for every app.
let compiledTools: ReturnType<typeof compileTools> | undefined

const mcp: FastifyPluginAsyncTypebox = async (fastify) => {
  const tools = compiledTools ??= compileTools(mcpTools, await loadContract())
  const webhookPolicy = { allowPrivateUrls: fastify.config.allowPrivateUrls }

  fastify.route({
    ...mcpOp,
    handler: async (request, reply) => {
      const caller = request.caller
      const calls = assertStreamableRequest(request)
      // docs/api.md#rate-limits: each JSON-RPC call costs one token. The guard took one before the body was
      // read; the rest of a batch is taken here in one decision, all or none (429 when short).
      if (calls > 1) await fastify.limitApiKey(request, reply, calls - 1)
      const server = createMcpServer(tools, {
        caller,
        eventTypes: fastify.eventTypes,
        storeEvent: fastify.ingest.storeEvent,
        webhookPolicy,
        forkEm: () => request.em.fork(),
        logError: (error, tool) => request.log.error({ err: error, tool }, 'MCP tool failed')
      }, version)
      const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true })
      // The SDK writes the response itself; headers the guard set (X-RateLimit-*) go with it.
      reply.hijack()
      for (const [name, value] of Object.entries(reply.getHeaders())) {
        if (value !== undefined) reply.raw.setHeader(name, value)
      }
      reply.raw.on('close', () => {
        void transport.close()
        void server.close()
      })
      await server.connect(transport)
      await transport.handleRequest(request.raw, reply.raw, request.body)
    }
  })

  // Stateless: no server-to-client stream to open (GET) and no session to end (DELETE).
  const methodNotAllowed = async (): Promise<never> => {
    throw new AppError(405, 'METHOD_NOT_ALLOWED', 'Use POST /mcp: this MCP server is stateless (no streams or sessions)', undefined, { allow: 'POST' })
  }
  fastify.route({ ...openMcpStream, handler: methodNotAllowed })
  fastify.route({ ...endMcpSession, handler: methodNotAllowed })
}

export default mcp
