// The retry rule (docs/webhooks.md#delivery-schedule): attempt 1 at once, then one retry after each entry of
// LOOP_DELIVERY_SCHEDULE (default 1m, 5m, 30m, 2h, 24h); a manual retry is one attempt only.

export interface AttemptOutcome {
  /** The HTTP status answered, or null when no response came. */
  statusCode: number | null
}

export type NextState =
  | { status: 'succeeded' }
  | { status: 'pending', retryInMs: number }
  /** `exhausted`: the automatic schedule ran out, which is what turns an endpoint `failing`. */
  | { status: 'failed', exhausted: boolean }

/** Only a 2xx counts: a 3xx is a failure too, because redirects are never followed. */
export const isSuccess = (outcome: AttemptOutcome) => outcome.statusCode !== null && outcome.statusCode >= 200 && outcome.statusCode < 300

export function scheduleNextAttempt (input: { outcome: AttemptOutcome, attempt: number, manualRetry: boolean, schedule: readonly number[] }): NextState {
  if (isSuccess(input.outcome)) return { status: 'succeeded' }
  if (input.manualRetry) return { status: 'failed', exhausted: false }
  const delay = input.schedule[input.attempt - 1]
  return delay === undefined ? { status: 'failed', exhausted: true } : { status: 'pending', retryInMs: delay }
}
