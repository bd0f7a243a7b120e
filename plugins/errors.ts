// One error path (SPEC section 3): typed AppErrors, Fastify's own errors (schema, body parsing,
// limits) and anything unexpected all leave as `{ ok:false, error:{ code, message, issues? } }`.
import fp from 'fastify-plugin'
import type { FastifyError, FastifyInstance } from 'fastify'
import { AppError, summarizeIssues } from '../lib/errors.ts'
import { issuesFromAjv } from '../lib/validation/issues.ts'

const codeByStatus: Record<number, string> = {
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

export function toAppError (error: FastifyError | AppError | Error): AppError {
  if (error instanceof AppError) return error
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

async function errorsPlugin (fastify: FastifyInstance): Promise<void> {
  fastify.setErrorHandler((error: FastifyError, request, reply) => {
    const appError = toAppError(error)
    if (appError.statusCode >= 500) {
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
