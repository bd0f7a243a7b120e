// What every provider mapper returns: how urgent a signal is and how its triage issue reads.
// docs/signals.md#severity-and-priority: priority follows severity (critical 1, high 2, medium 3, low 4).

export const severities = ['critical', 'high', 'medium', 'low'] as const
export type Severity = typeof severities[number]

export interface SignalMapping {
  severity: Severity
  /** The issue title, e.g. `Sentry: TypeError: undefined is not a function (523 events)`. */
  title: string
  /** The signal's type: the GitHub event, the Sentry action, `metric_change` for PostHog metrics… */
  type: string
  /** The provider's id for what the signal is about (Sentry issue id, PostHog alert id, …). */
  sourceId?: string
  /** A short markdown description for the issue: links and facts worth a click. */
  description?: string
}

const priorities: Record<Severity, 1 | 2 | 3 | 4> = { critical: 1, high: 2, medium: 3, low: 4 }

export function priorityFromSeverity (severity: Severity): 1 | 2 | 3 | 4 {
  return priorities[severity]
}

/** The more urgent of two severities. */
export function mostSevere (a: Severity, b: Severity): Severity {
  return priorities[a] <= priorities[b] ? a : b
}

/** Issue titles are capped (the issue table checks 500 characters); provider text can be longer. */
export const maxTitleLength = 500

export function clipTitle (title: string): string {
  const oneLine = title.replace(/\s+/g, ' ').trim()
  return oneLine.length <= maxTitleLength ? oneLine : `${oneLine.slice(0, maxTitleLength - 1)}…`
}
