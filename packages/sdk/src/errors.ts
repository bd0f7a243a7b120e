// LoopError: a non-2xx answer as an Error, with the envelope's fields (`{ok: false, error: {code,
// message, issues?}}`, docs: README "Errors") and its code typed as the contract's ErrorCode union.
import type { components } from '../../../generated/openapi.ts'

/** Every code Loop's error envelope may carry (the contract's ErrorCode enum). */
export type ErrorCode = components['schemas']['ErrorCode']
export type ValidationIssue = components['schemas']['ValidationIssue']

/**
 * A LoopError's code: the envelope's, or UNEXPECTED_RESPONSE when the answer was not Loop's
 * envelope at all (a proxy's HTML error page, a success without the expected body).
 */
export type LoopErrorCode = ErrorCode | 'UNEXPECTED_RESPONSE'

export class LoopError extends Error {
  override name = 'LoopError'
  /** The HTTP status of the answer. */
  readonly status: number
  readonly code: LoopErrorCode
  /** What was wrong with the request, field by field (422s); empty otherwise. */
  readonly issues: ValidationIssue[]
  readonly response: Response | undefined

  constructor (status: number, code: LoopErrorCode, message: string, issues: ValidationIssue[] = [], response?: Response) {
    super(message)
    this.status = status
    this.code = code
    this.issues = issues
    this.response = response
  }

  /**
   * The LoopError of a failed call, from what the client returned:
   * `const { data, error, response } = await loop.GET(…); if (error) throw LoopError.from(error, response)`.
   */
  static from (error: unknown, response: Response): LoopError {
    const envelope = (error as { error?: { code?: unknown, message?: unknown, issues?: unknown } } | undefined)?.error
    if (typeof envelope?.code === 'string' && typeof envelope.message === 'string') {
      const issues = Array.isArray(envelope.issues) ? envelope.issues as ValidationIssue[] : []
      return new LoopError(response.status, envelope.code as ErrorCode, envelope.message, issues, response)
    }
    const what = typeof error === 'string' && error !== '' ? `: ${error.slice(0, 200)}` : ''
    return new LoopError(response.status, 'UNEXPECTED_RESPONSE', `Unexpected answer from Loop: HTTP ${response.status}${what}`, [], response)
  }
}
