// Test mode only: with a directory to report to (LOOP_CONTRACT_VIOLATIONS, which test/run.ts sets
// for the whole suite), every response of a contract operation is checked against openapi/loop.yaml
// (lib/contract/response-check.ts) and each departure is appended to <directory>/<pid>.jsonl.
// test/run.ts prints them after tap and fails the run, so drift between server and contract fails
// CI. Routes outside the contract (/docs, /openapi.json, /admin, the not-found handler, a test's
// own routes) carry no operationId and are not checked.
import fp from 'fastify-plugin'
import { appendFileSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { join, relative } from 'node:path'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { derefIn, loadContract, type Contract, type JsonSchema } from '../lib/contract/openapi.ts'
import { responseChecker, type ResponseChecker } from '../lib/contract/response-check.ts'

export interface ResponseContractOptions {
  /** Where violations go, one JSON line each, in a file per process. */
  directory: string
}

/** One line of <directory>/<pid>.jsonl. */
export interface ContractViolation {
  /** The test file (or server script) whose process sent the response. */
  file: string
  operationId: string
  method: string
  path: string
  status: number
  problems: string[]
}

const kBody = Symbol('loop.responseBody')
type WithBody = { [kBody]?: string | null }

// One per process: a test file builds many apps over the same contract, and the contract is read
// and each schema compiled once for all of them.
let shared: Promise<ResponseChecker> | undefined

/**
 * test/run.ts leaves the contract, parsed once for the whole run, as contract.json in the
 * directory: JSON.parse takes milliseconds where the YAML takes most of a second per process.
 */
export const contractSnapshot = 'contract.json'

async function contractIn (directory: string): Promise<Contract> {
  try {
    const document = JSON.parse(await readFile(join(directory, contractSnapshot), 'utf8')) as JsonSchema
    return { document, deref: derefIn(document) }
  } catch {
    return await loadContract()
  }
}

const operationIdOf = (request: FastifyRequest): string | undefined => {
  const id = (request.routeOptions.schema as { operationId?: unknown } | undefined)?.operationId
  return typeof id === 'string' ? id : undefined
}

async function responseContractPlugin (fastify: FastifyInstance, options: ResponseContractOptions): Promise<void> {
  shared ??= contractIn(options.directory).then(responseChecker)
  const checker = await shared
  const file = join(options.directory, `${process.pid}.jsonl`)
  const script = relative(process.cwd(), process.argv[1] ?? '')

  // Registered after conditional-get, so the payload is the one sent (empty on its 304s).
  fastify.addHook('onSend', async (request, _reply, payload) => {
    if (operationIdOf(request) === undefined) return payload
    ;(request as unknown as WithBody)[kBody] = typeof payload === 'string'
      ? payload
      : Buffer.isBuffer(payload) ? payload.toString('utf8') : payload === null || payload === undefined ? '' : null
    return payload
  })

  // onResponse also runs for a hijacked reply (/mcp), whose body never passes onSend.
  fastify.addHook('onResponse', async (request, reply) => {
    const operationId = operationIdOf(request)
    if (operationId === undefined) return
    let problems: string[]
    try {
      problems = checker.check(operationId, {
        method: request.method,
        status: reply.statusCode,
        headers: reply.getHeaders(),
        body: (request as unknown as WithBody)[kBody] ?? null
      })
    } catch (error) {
      problems = [`the check itself failed: ${error instanceof Error ? error.message : String(error)}`]
    }
    if (problems.length === 0) return
    const violation: ContractViolation = {
      file: script,
      operationId,
      method: request.method,
      path: request.url.split('?')[0] ?? request.url,
      status: reply.statusCode,
      problems
    }
    // Synchronous: a test process may exit right after its last response.
    appendFileSync(file, JSON.stringify(violation) + '\n')
  })
}

export default fp(responseContractPlugin, { name: 'loop-response-contract', fastify: '5.x' })
