// PostHog webhooks → severity and issue title (docs/signals.md#posthog). Three shapes arrive:
// - a metric alert `{ name | event.name, value, timeframe }`: severity from |value| percent;
// - an insight alert, `$insight_alert_firing` (alert_name, insight_name, breaches…): at least high;
// - any other event from PostHog's HTTP-webhook destination, `{ event, person }`: low.
import { clipTitle, mostSevere, type Severity, type SignalMapping } from './signal-mapping.ts'
import { idAt, listAt, numberAt, textAt, valueAt } from './payload-fields.ts'

export const insightAlertEvent = '$insight_alert_firing'

/** |value| in percent: ≥ 50 critical, ≥ 25 high, ≥ 10 medium, else low. */
export function severityFromChange (value: number): Severity {
  const magnitude = Math.abs(value)
  if (magnitude >= 50) return 'critical'
  if (magnitude >= 25) return 'high'
  if (magnitude >= 10) return 'medium'
  return 'low'
}

function metricChange (payload: unknown): SignalMapping {
  const name = textAt(payload, 'event.name', 'name') ?? 'metric'
  const value = numberAt(payload, 'value')
  const timeframe = textAt(payload, 'timeframe') ?? 'recent'
  const change = value === undefined ? '' : ` ${value}%`
  return {
    severity: value === undefined ? 'low' : severityFromChange(value),
    title: clipTitle(`PostHog: ${name}${change} (${timeframe})`),
    type: 'metric_change'
  }
}

function breachesOf (properties: unknown): string | undefined {
  // PostHog joins the breaches with ", "; older senders passed the list itself.
  const list = listAt(properties, 'breaches').filter((b): b is string => typeof b === 'string')
  return list.length > 0 ? list.join(', ') : textAt(properties, 'breaches')
}

function insightAlert (payload: unknown, properties: unknown): SignalMapping {
  const alert = textAt(properties, 'alert_name') ?? 'insight alert'
  const insight = textAt(properties, 'insight_name')
  const breaches = breachesOf(properties)
  const value = numberAt(properties, 'value') ?? numberAt(payload, 'value')
  // A firing alert is someone's explicit threshold: never below high, critical when the change is.
  const severity = mostSevere('high', value === undefined ? 'low' : severityFromChange(value))
  const on = insight === undefined ? '' : ` on ${insight}`
  const url = textAt(payload, 'event.url')
  return {
    severity,
    title: clipTitle(`PostHog: alert ${alert} firing${on}${breaches === undefined ? '' : `: ${breaches}`}`),
    type: 'insight_alert',
    ...(idAt(properties, 'alert_id') !== undefined ? { sourceId: idAt(properties, 'alert_id') } : {}),
    ...(url !== undefined ? { description: `Source: ${url}` } : {})
  }
}

function plainEvent (payload: unknown, eventName: string): SignalMapping {
  const who = textAt(payload, 'person.name', 'event.distinct_id')
  const url = textAt(payload, 'event.url')
  const uuid = idAt(payload, 'event.uuid')
  return {
    severity: 'low',
    title: clipTitle(`PostHog: ${eventName}${who === undefined ? '' : ` by ${who}`}`),
    type: 'event',
    ...(uuid !== undefined ? { sourceId: uuid } : {}),
    ...(url !== undefined ? { description: `Source: ${url}` } : {})
  }
}

/** Severity, title and type for a PostHog delivery. */
export function severityFromPosthog (payload: unknown): SignalMapping {
  // The HTTP-webhook destination posts `{ event: { event: "$pageview", properties, uuid, … }, person }`;
  // some templates flatten it to `{ event: "$pageview", properties }`.
  const event = valueAt(payload, 'event')
  // Through textAt even when it is the string itself: trimmed, and without U+0000 (titles are PostgreSQL text).
  const eventName = typeof event === 'string' ? textAt(payload, 'event') : textAt(event, 'event')
  const properties = typeof event === 'string' ? valueAt(payload, 'properties') : valueAt(event, 'properties')
  if (eventName === insightAlertEvent) return insightAlert(payload, properties)
  if (eventName !== undefined && textAt(payload, 'event.name', 'name') === undefined) return plainEvent(payload, eventName)
  return metricChange(payload)
}
