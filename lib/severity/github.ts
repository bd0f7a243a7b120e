// GitHub events → severity and issue title (docs/signals.md#github). Security alerts take the alert's own
// severity (`moderate` → medium, secret leaks critical); failed workflow runs and check suites are
// high on the default branch and medium elsewhere; issues labelled bug are medium; the rest is low.
import { clipTitle, type Severity, type SignalMapping } from './signal-mapping.ts'
import { idAt, listAt, textAt, valueAt } from './payload-fields.ts'

interface SecurityAlertKind {
  label: string
  /** Where the alert states its severity, most specific first; absent for secret scanning (always critical). */
  severityPaths: string[]
  subjectPaths: string[]
  numberPath: string
}

const securityAlerts: Record<string, SecurityAlertKind> = {
  dependabot_alert: {
    label: 'dependabot alert',
    severityPaths: ['alert.security_advisory.severity', 'alert.security_vulnerability.severity'],
    subjectPaths: ['alert.dependency.package.name', 'alert.security_vulnerability.package.name', 'alert.security_advisory.ghsa_id'],
    numberPath: 'alert.number'
  },
  code_scanning_alert: {
    label: 'code scanning alert',
    // security_severity_level is set for security queries; rule.severity (error/warning/note) otherwise.
    severityPaths: ['alert.rule.security_severity_level', 'alert.rule.severity'],
    subjectPaths: ['alert.rule.description', 'alert.rule.name', 'alert.rule.id'],
    numberPath: 'alert.number'
  },
  secret_scanning_alert: {
    label: 'secret scanning alert',
    severityPaths: [],
    subjectPaths: ['alert.secret_type_display_name', 'alert.secret_type'],
    numberPath: 'alert.number'
  },
  security_advisory: {
    label: 'security advisory',
    severityPaths: ['security_advisory.severity'],
    subjectPaths: ['security_advisory.summary', 'security_advisory.ghsa_id'],
    numberPath: 'security_advisory.ghsa_id'
  },
  repository_vulnerability_alert: {
    label: 'vulnerability alert',
    severityPaths: ['alert.severity'],
    subjectPaths: ['alert.affected_package_name', 'alert.package_name'],
    numberPath: 'alert.number'
  }
}

// GitHub says `moderate` where Loop says medium; code scanning rules use error/warning/note.
const githubSeverities: Record<string, Severity> = {
  critical: 'critical',
  high: 'high',
  moderate: 'medium',
  medium: 'medium',
  low: 'low',
  error: 'high',
  warning: 'medium',
  note: 'low',
  none: 'low'
}

// An alert that was fixed, dismissed or withdrawn needs no work: it is recorded, as low.
const resolvingActions = new Set(['fixed', 'dismissed', 'auto_dismissed', 'closed_by_user', 'resolved', 'resolve', 'dismiss', 'withdrawn'])

const failedConclusions = new Set(['failure', 'timed_out', 'startup_failure'])

/** `table[key]` for the table's own keys only: an event or severity named `constructor` or
 * `valueOf` (the header and the payload are the sender's) must not find Object.prototype's. */
function ownEntry<T> (table: Record<string, T>, key: string | undefined): T | undefined {
  return key !== undefined && Object.hasOwn(table, key) ? table[key] : undefined
}

function where (payload: unknown): string {
  const repo = textAt(payload, 'repository.full_name')
  return repo === undefined ? '' : ` in ${repo}`
}

function mapping (severity: Severity, title: string, type: string, sourceId: string | undefined, url: string | undefined): SignalMapping {
  return {
    severity,
    title: clipTitle(title),
    type,
    ...(sourceId !== undefined ? { sourceId } : {}),
    ...(url !== undefined ? { description: `Source: ${url}` } : {})
  }
}

function securityAlert (event: string, kind: SecurityAlertKind, payload: unknown): SignalMapping {
  const action = textAt(payload, 'action')
  const subject = textAt(payload, ...kind.subjectPaths)
  const repo = textAt(payload, 'repository.full_name')
  const number = idAt(payload, kind.numberPath)
  const sourceId = number === undefined ? undefined : [event, repo, number].filter((p) => p !== undefined).join(':')
  const url = textAt(payload, 'alert.html_url', 'security_advisory.html_url')
  const about = subject === undefined ? '' : `: ${subject}`
  if (action !== undefined && resolvingActions.has(action)) {
    return mapping('low', `GitHub: ${kind.label} ${action}${about}${where(payload)}`, event, sourceId, url)
  }
  const stated = textAt(payload, ...kind.severityPaths)?.toLowerCase()
  // A leaked secret is always critical; an alert whose severity is missing or unknown errs urgent.
  const severity: Severity = kind.severityPaths.length === 0 ? 'critical' : ownEntry(githubSeverities, stated) ?? 'high'
  return mapping(severity, `GitHub: ${kind.label}${about} (${severity})${where(payload)}`, event, sourceId, url)
}

function failedRun (event: 'workflow_run' | 'check_suite', payload: unknown): SignalMapping {
  const branch = textAt(payload, `${event}.head_branch`)
  const conclusion = textAt(payload, `${event}.conclusion`)
  const failed = conclusion !== undefined && failedConclusions.has(conclusion)
  const onDefault = branch !== undefined && branch === textAt(payload, 'repository.default_branch')
  const severity: Severity = !failed ? 'low' : onDefault ? 'high' : 'medium'
  const name = event === 'workflow_run'
    ? `workflow ${textAt(payload, 'workflow_run.name', 'workflow.name') ?? 'run'}`
    : `check suite${textAt(payload, 'check_suite.app.name') === undefined ? '' : ` (${textAt(payload, 'check_suite.app.name')})`}`
  const outcome = failed ? 'failed' : (conclusion ?? textAt(payload, 'action') ?? 'updated')
  const on = branch === undefined ? '' : ` on ${branch}`
  return mapping(severity, `GitHub: ${name} ${outcome}${on}${where(payload)}`, event, idAt(payload, `${event}.id`), textAt(payload, `${event}.html_url`))
}

function isLabelledBug (payload: unknown): boolean {
  const labels = [...listAt(payload, 'issue.labels'), valueAt(payload, 'label')]
  return labels.some((label) => textAt(label, 'name')?.toLowerCase() === 'bug')
}

function issueEvent (payload: unknown): SignalMapping {
  const number = idAt(payload, 'issue.number')
  const repo = textAt(payload, 'repository.full_name')
  const title = textAt(payload, 'issue.title') ?? 'untitled'
  const action = textAt(payload, 'action') ?? 'updated'
  const sourceId = number === undefined ? undefined : `${repo ?? ''}#${number}`
  const severity: Severity = isLabelledBug(payload) ? 'medium' : 'low'
  return mapping(severity, `GitHub: issue #${number ?? '?'} ${action}: ${title}${where(payload)}`, 'issues', sourceId, textAt(payload, 'issue.html_url'))
}

function pullRequestEvent (payload: unknown): SignalMapping {
  const number = idAt(payload, 'pull_request.number', 'number')
  const repo = textAt(payload, 'repository.full_name')
  const title = textAt(payload, 'pull_request.title') ?? 'untitled'
  const action = textAt(payload, 'action') ?? 'updated'
  const sourceId = number === undefined ? undefined : `${repo ?? ''}#${number}`
  return mapping('low', `GitHub: pull request #${number ?? '?'} ${action}: ${title}${where(payload)}`, 'pull_request', sourceId, textAt(payload, 'pull_request.html_url'))
}

function pushEvent (payload: unknown): SignalMapping {
  const ref = textAt(payload, 'ref') ?? 'a branch'
  const branch = ref.replace(/^refs\/(heads|tags)\//, '')
  const commits = listAt(payload, 'commits').length
  const repo = textAt(payload, 'repository.full_name')
  const after = textAt(payload, 'after')
  const sourceId = after === undefined ? undefined : `${repo ?? ''}@${after}`
  return mapping('low', `GitHub: push to ${branch} (${commits} commit${commits === 1 ? '' : 's'})${where(payload)}`, 'push', sourceId, textAt(payload, 'compare'))
}

/** Severity, title and type for a GitHub delivery of `event` (the X-GitHub-Event header). */
export function severityFromGithub (event: string, payload: unknown): SignalMapping {
  const alert = ownEntry(securityAlerts, event)
  if (alert !== undefined) return securityAlert(event, alert, payload)
  if (event === 'workflow_run' || event === 'check_suite') return failedRun(event, payload)
  if (event === 'issues') return issueEvent(payload)
  if (event === 'pull_request') return pullRequestEvent(payload)
  if (event === 'push') return pushEvent(payload)
  const action = textAt(payload, 'action')
  return mapping('low', `GitHub: ${event.replace(/_/g, ' ')}${action === undefined ? '' : ` ${action}`}${where(payload)}`, event, undefined, textAt(payload, 'repository.html_url'))
}
