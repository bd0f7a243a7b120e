// One error path (docs/api.md#errors): typed AppErrors, Fastify's own errors (schema, body parsing,
// limits) and anything unexpected all leave as `{ ok:false, error:{ code, message, issues? } }`.
import fp from 'fastify-plugin'
import type { Socket } from 'node:net'
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { AppError, summarizeIssues, type ErrorCode } from '../lib/errors.ts'
import { issuesFromAjv } from '../lib/validation/issues.ts'
import { databaseUnreachable } from '../lib/db/unreachable.ts'

const codeByStatus: Record<number, ErrorCode> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHORIZED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  406: 'NOT_ACCEPTABLE',
  408: 'REQUEST_TIMEOUT',
  409: 'CONFLICT',
  411: 'LENGTH_REQUIRED',
  413: 'PAYLOAD_TOO_LARGE',
  414: 'URI_TOO_LONG',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  422: 'VALIDATION_ERROR',
  429: 'RATE_LIMITED',
  431: 'HEADERS_TOO_LARGE'
}

// Fastify's messages for these are precise but mention internals; say it the user's way.
const messageByFastifyCode: Record<string, string> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'Unsupported Content-Type: send application/json',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'Content-Length does not match the body',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'Body is empty but Content-Type is application/json',
  FST_ERR_CTP_INVALID_JSON_BODY: 'Body is not valid JSON',
  FST_ERR_CTP_BODY_TOO_LARGE: 'Body is larger than the limit'
}

// PostgreSQL refusing a value the client sent (SQLSTATE): a number beyond jsonb's numeric range,
// U+0000 in jsonb or text, nesting deeper than its parser's stack. The client's input, not a fault.
// 08P01 is the same U+0000 one level down: MikroORM 6's own entity queries (find, flush) inline
// their parameters into the query text (mikro-orm/mikro-orm#6827; lib/db/sql.ts binds them), and
// the wire protocol ends a query text at the first NUL, so PostgreSQL sees a malformed message.
const unstorableBySqlState: Record<string, string> = {
  '08P01': 'a string holds a character that cannot be stored (U+0000)',
  22003: 'a number is out of the range that can be stored',
  '22P05': 'a string holds a character that cannot be stored (U+0000)',
  22021: 'a string holds a character that cannot be stored (U+0000)',
  54001: 'the JSON is nested too deeply to be stored'
}

/** How long a client is asked to wait before retrying while the database is out of reach. */
const UNREACHABLE_RETRY_SECONDS = 2

export function toAppError (error: FastifyError | AppError | Error): AppError {
  if (error instanceof AppError) return error
  if (databaseUnreachable(error)) {
    return new AppError(503, 'NOT_READY', 'The database is unreachable; retry shortly', undefined, { 'retry-after': String(UNREACHABLE_RETRY_SECONDS) })
  }
  const driverError = error as { sqlState?: unknown, code?: unknown }
  const unstorable = unstorableBySqlState[String(driverError.sqlState ?? driverError.code ?? '')]
  if (unstorable !== undefined) return new AppError(400, 'BAD_REQUEST', `The request cannot be stored: ${unstorable}`)
  const fe = error as FastifyError
  if (fe.validation !== undefined) {
    const issues = issuesFromAjv(fe.validation as never)
    return new AppError(422, 'VALIDATION_ERROR', summarizeIssues(issues, fe.validationContext ?? ''), issues)
  }
  const status = typeof fe.statusCode === 'number' ? fe.statusCode : 500
  if (status >= 400 && status < 500) {
    // A JSON syntax error surfaces as a SyntaxError with status 400 from the body parser.
    const message = messageByFastifyCode[fe.code] ?? (error instanceof SyntaxError ? 'Body is not valid JSON' : fe.message)
    return new AppError(status, codeByStatus[status] ?? 'BAD_REQUEST', message)
  }
  return new AppError(500, 'INTERNAL_ERROR', 'Internal server error')
}

/**
 * Fastify's router answers a URL it cannot decode (FST_ERR_BAD_URL) or a parameter over its
 * length limit (FST_ERR_MAX_PARAM_LENGTH) before any hook runs; this gives those the envelope.
 */
export function frameworkErrors (error: FastifyError, _request: FastifyRequest, reply: FastifyReply): void {
  const appError = toAppError(error)
  void reply.code(appError.statusCode).type('application/json; charset=utf-8').send(appError.toEnvelope())
}

/**
 * Requests Node's HTTP parser rejects before Fastify sees them (CR or NUL in a header, conflicting
 * Content-Lengths, headers over the size limit, a client too slow to send its headers) get the
 * envelope too. Unlike Node's and Fastify's defaults, the socket is ended rather than destroyed
 * (destroy can drop the answer unsent) and drained for a moment, so the client can read it.
 */
export function clientErrorHandler (this: FastifyInstance, error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return
  const [status, code, message]: [number, ErrorCode, string] = error.code === 'HPE_HEADER_OVERFLOW'
    ? [431, 'HEADERS_TOO_LARGE', 'Request headers are larger than the limit']
    : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? [408, 'REQUEST_TIMEOUT', 'The request was not received in time']
      : [400, 'BAD_REQUEST', 'Malformed HTTP request']
  this.log.info({ code: error.code }, 'client error')
  const body = JSON.stringify(new AppError(status, code, message).toEnvelope())
  if (socket.writable) {
    socket.end(`HTTP/1.1 ${status} ${code.replace(/_/g, ' ')}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`)
  }
  socket.resume()
  setTimeout(() => socket.destroy(), 1000).unref()
}

const NOT_READY_LOG_EVERY_MS = 10_000

async function errorsPlugin (fastify: FastifyInstance): Promise<void> {
  // An outage fails every request alike: its first 503 NOT_READY is logged, then one line per
  // 10 s saying how many went unlogged, rather than a line and a stack per request.
  let notReadyLoggedAt = Number.NEGATIVE_INFINITY
  let notReadyUnlogged = 0
  fastify.setErrorHandler((error: FastifyError, request, reply) => {
    const appError = toAppError(error)
    if (appError.code === 'NOT_READY') {
      const now = Date.now()
      if (now - notReadyLoggedAt >= NOT_READY_LOG_EVERY_MS) {
        request.log.warn({ reason: error.message, unloggedSinceLast: notReadyUnlogged }, 'not ready: answered 503')
        notReadyLoggedAt = now
        notReadyUnlogged = 0
      } else {
        notReadyUnlogged++
      }
    } else if (appError.statusCode >= 500) {
      request.log.error({ err: error }, 'request failed')
    } else {
      request.log.info({ code: appError.code, message: appError.message }, 'request rejected')
    }
    if (appError.headers !== undefined) reply.headers(appError.headers)
    return reply.code(appError.statusCode).type('application/json; charset=utf-8').send(appError.toEnvelope())
  })

  fastify.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? request.url
    return reply.code(404).type('application/json; charset=utf-8')
      .send(new AppError(404, 'NOT_FOUND', `Route ${request.method} ${path} not found`).toEnvelope())
  })
}

export default fp(errorsPlugin, { name: 'loop-errors', fastify: '5.x' })
