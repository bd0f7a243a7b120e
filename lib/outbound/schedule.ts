// The retry rule (docs/webhooks.md#delivery-schedule): attempt 1 at once, then one retry after each entry of
// LOOP_DELIVERY_SCHEDULE (default 1m, 5m, 30m, 2h, 24h), each ±20% jitter; a manual retry is one
// attempt only. The receiver is heard (Standard Webhooks guidance): a 410 disables its endpoint,
// and a throttling answer's Retry-After replaces that retry's delay.

export interface AttemptOutcome {
  /** The HTTP status answered, or null when no response came. */
  statusCode: number | null
  /** The response's Retry-After header as sent, when there was one. */
  retryAfter?: string | null
}

export type NextState =
  | { status: 'succeeded' }
  | { status: 'pending', retryInMs: number }
  /** `exhausted`: the automatic schedule ran out, which is what turns an endpoint `failing`. */
  | { status: 'failed', exhausted: boolean }
  /**
   * 410 Gone: the receiver wants no more deliveries. Its endpoint is disabled at once and this
   * delivery stays pending, unscheduled with the endpoint's others, until it is enabled again.
   */
  | { status: 'gone' }

/** Each scheduled delay is drawn from ±20% of its nominal value, so retries after an outage do not arrive in lockstep. */
export const JITTER = 0.2
/** The longest Retry-After honoured; a later one is cut to this, so a receiver cannot park a delivery for days. */
export const RETRY_AFTER_CAP_MS = 60 * 60 * 1000
/** The answers that mean "not now" (Standard Webhooks): their Retry-After sets the next attempt. */
export const THROTTLE_STATUSES: ReadonlySet<number> = new Set([429, 502, 503, 504])

/** Only a 2xx counts: a 3xx is a failure too, because redirects are never followed. */
export const isSuccess = (outcome: AttemptOutcome) => outcome.statusCode !== null && outcome.statusCode >= 200 && outcome.statusCode < 300

/**
 * Retry-After in milliseconds from `now`: delay-seconds (`120`) or an HTTP date (RFC 9110
 * section 10.2.3), capped at RETRY_AFTER_CAP_MS, at least 0 (a date in the past means now); null
 * when absent or unreadable, and then the schedule applies.
 */
export function parseRetryAfter (text: string | null | undefined, now: number): number | null {
  if (text == null) return null
  const value = text.trim()
  let ms: number
  if (/^\d+$/.test(value)) ms = Number(value) * 1000
  else {
    const at = parseHttpDate(value)
    if (at === null) return null
    ms = at - now
  }
  return Math.min(Math.max(ms, 0), RETRY_AFTER_CAP_MS)
}

// The three HTTP-date forms a recipient must accept (RFC 9110 section 5.6.7), all UTC; a bare
// "2026-12-11" or "tomorrow" is not a date a receiver meant, and asctime's carries no zone.
const imfFixdate = /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/
const rfc850 = /^[A-Z][a-z]+, \d{2}-[A-Z][a-z]{2}-\d{2} \d{2}:\d{2}:\d{2} GMT$/
const asctime = /^[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2} \d{4}$/

function parseHttpDate (value: string): number | null {
  const text = imfFixdate.test(value) || rfc850.test(value) ? value : asctime.test(value) ? `${value} GMT` : null
  if (text === null) return null
  const at = Date.parse(text)
  return Number.isNaN(at) ? null : at
}

/** `delay` ±20%: `random()` in [0, 1) maps onto [0.8, 1.2) of it. */
export const jittered = (delay: number, random: () => number = Math.random) => Math.round(delay * (1 - JITTER + 2 * JITTER * random()))

export function scheduleNextAttempt (input: { outcome: AttemptOutcome, attempt: number, manualRetry: boolean, schedule: readonly number[], now?: number, random?: () => number }): NextState {
  const { outcome } = input
  if (isSuccess(outcome)) return { status: 'succeeded' }
  if (outcome.statusCode === 410) return { status: 'gone' }
  if (input.manualRetry) return { status: 'failed', exhausted: false }
  // Retry-After moves a retry, it never adds one: the schedule still bounds how many are made.
  const delay = input.schedule[input.attempt - 1]
  if (delay === undefined) return { status: 'failed', exhausted: true }
  const retryAfter = outcome.statusCode !== null && THROTTLE_STATUSES.has(outcome.statusCode) ? parseRetryAfter(outcome.retryAfter, input.now ?? Date.now()) : null
  return { status: 'pending', retryInMs: retryAfter ?? jittered(delay, input.random) }
}
