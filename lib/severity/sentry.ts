// Sentry webhooks → severity and issue title (docs/signals.md#sentry). Fields come from
// `data.issue`, `data.error` or (event alerts) `data.event`: `.title`, `.count`, `.level`.
// fatal → critical; error with count ≥ 100 → critical; error → high; warning → medium; else low.
import { clipTitle, type Severity, type SignalMapping } from './signal-mapping.ts'
import { idAt, numberAt, textAt } from './payload-fields.ts'

const objects = ['data.issue', 'data.error', 'data.event']
const fields = (name: string) => objects.map((o) => `${o}.${name}`)

/** The count at which an error stops being merely high: a storm of the same error is an outage. */
export const criticalErrorCount = 100

function severityOf (level: string | undefined, count: number | undefined): Severity {
  if (level === 'fatal') return 'critical'
  if (level === 'error') return count !== undefined && count >= criticalErrorCount ? 'critical' : 'high'
  if (level === 'warning') return 'medium'
  return 'low'
}

/** Severity, title and type for a Sentry delivery; `resource` is the Sentry-Hook-Resource header. */
export function severityFromSentry (payload: unknown, resource?: string): SignalMapping {
  const level = textAt(payload, ...fields('level'))?.toLowerCase()
  // Sentry sends the issue count as a string ("523"); numberAt reads both forms.
  const count = numberAt(payload, ...fields('count'))
  const action = textAt(payload, 'action')
  const severity = severityOf(level, count)
  const subject = textAt(payload, ...fields('title'), 'data.description_title') ?? `${resource ?? 'event'} ${action ?? 'received'}`
  const events = count === undefined ? '' : ` (${count} event${count === 1 ? '' : 's'})`
  const sourceId = idAt(payload, 'data.issue.id', 'data.error.issue_id', 'data.event.issue_id')
  const url = textAt(payload, 'data.issue.web_url', 'data.issue.permalink', 'data.error.web_url', 'data.event.web_url')
  const culprit = textAt(payload, ...fields('culprit'))
  const description = [culprit === undefined ? undefined : `Culprit: ${culprit}`, url === undefined ? undefined : `Source: ${url}`]
    .filter((line) => line !== undefined).join('\n')
  return {
    severity,
    title: clipTitle(`Sentry: ${subject}${events}`),
    type: action ?? 'event',
    ...(sourceId !== undefined ? { sourceId } : {}),
    ...(description !== '' ? { description } : {})
  }
}
