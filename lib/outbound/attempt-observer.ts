// What the delivery worker tells an observer (metrics, traces) about each attempt it recorded:
// kept apart from the worker so that watching it costs the worker one call.
import type { ClaimedDelivery, RecordedAttempt } from './queue.ts'
import type { SendResult } from './send.ts'

/** Where an attempt left its delivery: a bounded label (docs/operations.md#metrics). */
export const attemptOutcomes = ['succeeded', 'retrying', 'failed', 'gone', 'lease_lost'] as const
export type AttemptOutcome = typeof attemptOutcomes[number]

export interface AttemptObserver {
  /** Called once the attempt is recorded (or found to belong to another worker now). */
  attempted: (delivery: ClaimedDelivery, result: SendResult, recorded: RecordedAttempt, attemptedAt: Date) => void
}

export function attemptOutcome (recorded: RecordedAttempt): AttemptOutcome {
  if (!recorded.recorded) return 'lease_lost'
  switch (recorded.next.status) {
    case 'succeeded': return 'succeeded'
    case 'pending': return 'retrying'
    case 'failed': return 'failed'
    case 'gone': return 'gone'
  }
}

/** Several observers as one (or none: undefined, so the worker's call is skipped). */
export function attemptObservers (observers: readonly (AttemptObserver | undefined)[]): AttemptObserver | undefined {
  const present = observers.filter((o): o is AttemptObserver => o !== undefined)
  if (present.length <= 1) return present[0]
  return { attempted: (...args) => { for (const observer of present) observer.attempted(...args) } }
}
