// The one error type of Loop. Services and routes throw these; plugins/errors.ts renders every
// one of them (and every framework error) as the error envelope (docs/api.md#errors).
import type { components } from '../generated/openapi.ts'

export type ValidationIssue = components['schemas']['ValidationIssue']
export type ErrorEnvelope = components['schemas']['Error']
/** Every code the envelope may carry: the contract's ErrorCode enum, so a new one is declared first. */
export type ErrorCode = components['schemas']['ErrorCode']

export class AppError extends Error {
  constructor (
    readonly statusCode: number,
    readonly code: ErrorCode,
    message: string,
    readonly issues?: ValidationIssue[],
    /** Extra response headers, e.g. Retry-After on 429. */
    readonly headers?: Record<string, string>
  ) {
    super(message)
    this.name = 'AppError'
  }

  toEnvelope (): ErrorEnvelope {
    return {
      ok: false,
      error: { code: this.code, message: this.message, ...(this.issues !== undefined ? { issues: this.issues } : {}) }
    }
  }
}

export const badRequest = (message: string) => new AppError(400, 'BAD_REQUEST', message)
export const unauthorized = (message: string, headers?: Record<string, string>) => new AppError(401, 'UNAUTHORIZED', message, undefined, headers)
export const forbidden = (message: string) => new AppError(403, 'FORBIDDEN', message)
export const notFound = (message: string) => new AppError(404, 'NOT_FOUND', message)
export const conflict = (message: string, code: ErrorCode = 'CONFLICT') => new AppError(409, code, message)
export const validationError = (issues: ValidationIssue[], message?: string) =>
  new AppError(422, 'VALIDATION_ERROR', message ?? summarizeIssues(issues), issues)
export const rateLimited = (retryAfterSeconds: number) =>
  new AppError(429, 'RATE_LIMITED', `Rate limit exceeded, retry in ${retryAfterSeconds} second${retryAfterSeconds === 1 ? '' : 's'}`, undefined, { 'retry-after': String(retryAfterSeconds) })
export const notConfigured = (message: string) => new AppError(500, 'NOT_CONFIGURED', message)

const stringPhrases: Record<string, string> = {
  'Invalid email': 'must be a valid email address',
  'Invalid uuid': 'must be a valid UUID',
  'Invalid datetime': 'must be an RFC 3339 date-time',
  'Invalid url': 'must be a valid URL'
}

/** One sentence for a 422's `message`, in the seed's words: `payload.email must be a valid email address`. */
export function summarizeIssues (issues: ValidationIssue[], prefix = ''): string {
  const first = issues[0]
  if (first === undefined) return 'Validation failed'
  const where = [prefix, first.path].filter((p) => p !== '').join('.') || 'value'
  let phrase: string
  switch (first.code) {
    case 'required': phrase = 'is required'; break
    case 'unrecognized_keys': phrase = 'is not a recognized field'; break
    case 'invalid_string': phrase = stringPhrases[first.message] ?? `is invalid: ${first.message}`; break
    case 'invalid_type': phrase = first.message.replace(/^Expected /, 'must be '); break
    case 'invalid_enum_value': phrase = first.message.replace(/^Invalid enum value\. Expected /, 'must be one of '); break
    default: phrase = `is invalid: ${first.message}`
  }
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more issue${issues.length > 2 ? 's' : ''})` : ''
  return `${where} ${phrase}${more}`
}
