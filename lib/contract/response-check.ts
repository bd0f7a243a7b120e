// Checks one response against the contract: its status is declared for the operation, every
// header Loop adds is declared for that status (and every required one is sent), and its body is
// the declared media type and validates against the declared schema. The test suite runs every
// response through this (plugins/response-contract.ts), so the server and openapi/loop.yaml
// cannot drift apart unnoticed.
import type { ValidateFunction } from 'ajv'
import { createAjv } from '../validation/ajv.ts'
import { componentSchemas, operationsOf, referencingSchema, type Contract, type JsonSchema } from './openapi.ts'

export interface SentResponse {
  method: string
  status: number
  /** Header names in lower case, as Node reports them. */
  headers: Record<string, unknown>
  /** The serialized body; empty when there is none or it was not captured (a hijacked reply). */
  body: string | null
}

interface DeclaredResponse {
  /** Media type → schema (null when the media type has none). */
  content: Map<string, JsonSchema | null>
  /** Lower-case header name → required. */
  headers: Map<string, boolean>
}

/**
 * Headers that describe the transport or protect a browser, set on every answer by Node, Fastify
 * or helmet (plugins/security-headers.ts): not part of any operation's contract. Every other
 * header a response carries must be declared for its status.
 */
const transportHeaders = new Set([
  'connection', 'content-length', 'content-type', 'date', 'keep-alive', 'transfer-encoding', 'vary',
  'content-security-policy', 'cross-origin-embedder-policy', 'cross-origin-opener-policy', 'cross-origin-resource-policy',
  'origin-agent-cluster', 'referrer-policy', 'strict-transport-security', 'x-content-type-options',
  'x-dns-prefetch-control', 'x-download-options', 'x-frame-options', 'x-permitted-cross-domain-policies', 'x-xss-protection'
])

export interface ResponseChecker {
  /** Whether the contract has this operationId. */
  has: (operationId: string) => boolean
  /** Every way `response` departs from what the contract declares for `operationId`; empty when none. */
  check: (operationId: string, response: SentResponse) => string[]
}

export function responseChecker ({ document, deref }: Contract): ResponseChecker {
  const declared = new Map<string, Map<string, DeclaredResponse>>()
  const paths = document.paths as Record<string, Record<string, JsonSchema>>
  for (const op of operationsOf(document, deref)) {
    const responses = (paths[op.path]?.[op.method]?.responses ?? {}) as Record<string, JsonSchema>
    const byStatus = new Map<string, DeclaredResponse>()
    for (const [status, response] of Object.entries(responses)) {
      const resolved = deref(response)
      const content = new Map<string, JsonSchema | null>()
      for (const [type, media] of Object.entries((resolved.content ?? {}) as Record<string, JsonSchema>)) {
        content.set(type.toLowerCase(), (media.schema as JsonSchema | undefined) ?? null)
      }
      const headers = new Map<string, boolean>()
      for (const [name, header] of Object.entries((resolved.headers ?? {}) as Record<string, JsonSchema>)) {
        headers.set(name.toLowerCase(), deref(header).required === true)
      }
      byStatus.set(status.toUpperCase(), { content, headers })
    }
    declared.set(op.operationId, byStatus)
  }

  // Compiled on first use and kept: most operations see a handful of statuses in a test file, and
  // a process compiles each schema at most once, never per request. The document's components are
  // added once under their names and the declared schemas refer to them, so the error envelope,
  // the same schema under most statuses of every operation, compiles once for all of them.
  const ajv = createAjv({ useDefaults: false, coerceTypes: false, schemas: componentSchemas(document, deref) })
  const validators = new Map<string, ValidateFunction>()
  const bySchema = new Map<string, ValidateFunction>()
  const validatorFor = (key: string, schema: JsonSchema): ValidateFunction => {
    let validate = validators.get(key)
    if (validate === undefined) {
      const resolved = referencingSchema(schema, deref)
      const text = JSON.stringify(resolved)
      validate = bySchema.get(text) ?? ajv.compile(resolved)
      bySchema.set(text, validate)
      validators.set(key, validate)
    }
    return validate
  }

  const check = (operationId: string, response: SentResponse): string[] => {
    const byStatus = declared.get(operationId)
    if (byStatus === undefined) return [`operation ${operationId} is not in the contract`]
    const status = String(response.status)
    const statusKey = byStatus.has(status) ? status : byStatus.has(`${status[0]}XX`) ? `${status[0]}XX` : 'DEFAULT'
    const expected = byStatus.get(statusKey)
    if (expected === undefined) return [`status ${status} is not declared`]

    const problems: string[] = []
    for (const [name, value] of Object.entries(response.headers)) {
      if (value === undefined || transportHeaders.has(name) || expected.headers.has(name)) continue
      problems.push(`header ${name} is not declared for ${status}`)
    }
    for (const [name, required] of expected.headers) {
      if (required && response.headers[name] === undefined) problems.push(`required header ${name} is missing from ${status}`)
    }

    // Node and Fastify send no body with a 204 or 304 (nor to HEAD), whatever the handler gave.
    const bodiless = response.status === 204 || response.status === 304 || response.method === 'HEAD'
    const body = bodiless ? '' : response.body ?? ''
    if (body === '') {
      // A hijacked reply (/mcp) writes its body past Fastify: only its status and headers are seen.
      if (response.body !== null && !bodiless && expected.content.size > 0) problems.push(`${status} declares a body but none was sent`)
      return problems
    }
    const mediaType = String(response.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? ''
    if (expected.content.size === 0) return [...problems, `${status} declares no body but one was sent (${mediaType || 'no Content-Type'})`]
    if (!expected.content.has(mediaType)) return [...problems, `${status} declares ${[...expected.content.keys()].join(', ')}, not ${mediaType || 'no Content-Type'}`]
    const schema = expected.content.get(mediaType)
    if (schema === null || schema === undefined || !mediaType.endsWith('json')) return problems
    let parsed: unknown
    try {
      parsed = JSON.parse(body)
    } catch {
      return [...problems, `${status} body is not JSON`]
    }
    const validate = validatorFor(`${operationId} ${statusKey} ${mediaType}`, schema)
    if (!validate(parsed)) {
      // A wrong list item repeats the same error per item: the first few say what is wrong.
      for (const error of (validate.errors ?? []).slice(0, 5)) problems.push(`${status} body${error.instancePath} ${error.message ?? 'is invalid'}${error.keyword === 'additionalProperties' ? ` (${String((error.params as { additionalProperty?: unknown }).additionalProperty)})` : ''}`)
    }
    return problems
  }

  return { has: (operationId) => declared.has(operationId), check }
}
