import t from 'tap'
import { severityFromGithub } from '../../../lib/severity/github.ts'
import type { Severity } from '../../../lib/severity/signal-mapping.ts'

const repository = { full_name: 'octo/app', default_branch: 'main', html_url: 'https://github.com/octo/app' }

const dependabot = (severity: string, action = 'created') => ({
  action,
  alert: {
    number: 7,
    state: 'open',
    dependency: { package: { ecosystem: 'npm', name: 'lodash' }, manifest_path: 'package-lock.json' },
    security_advisory: { ghsa_id: 'GHSA-jf85-cpcp-j695', severity, summary: 'Prototype Pollution in lodash' },
    security_vulnerability: { package: { ecosystem: 'npm', name: 'lodash' }, severity },
    html_url: 'https://github.com/octo/app/security/dependabot/7'
  },
  repository
})

const run = (event: 'workflow_run' | 'check_suite', conclusion: string | null, branch: string) => ({
  action: 'completed',
  [event]: { id: 30433642, name: 'CI', head_branch: branch, conclusion, status: 'completed', html_url: 'https://github.com/octo/app/actions/runs/30433642', app: { name: 'GitHub Actions' } },
  repository
})

const issue = (labels: string[], action = 'opened') => ({
  action,
  issue: { number: 12, title: 'Crash on save', labels: labels.map((name) => ({ name })), html_url: 'https://github.com/octo/app/issues/12' },
  repository
})

const cases: [string, string, unknown, Severity, string][] = [
  ['a high dependabot alert is high', 'dependabot_alert', dependabot('high'), 'high', 'GitHub: dependabot alert: lodash (high) in octo/app'],
  ['a critical dependabot alert is critical', 'dependabot_alert', dependabot('critical'), 'critical', 'GitHub: dependabot alert: lodash (critical) in octo/app'],
  ['a moderate dependabot alert is medium', 'dependabot_alert', dependabot('moderate'), 'medium', 'GitHub: dependabot alert: lodash (medium) in octo/app'],
  ['a medium dependabot alert is medium', 'dependabot_alert', dependabot('medium'), 'medium', 'GitHub: dependabot alert: lodash (medium) in octo/app'],
  ['a low dependabot alert is low', 'dependabot_alert', dependabot('low'), 'low', 'GitHub: dependabot alert: lodash (low) in octo/app'],
  ['the alert severity is read case-insensitively', 'dependabot_alert', dependabot('HIGH'), 'high', 'GitHub: dependabot alert: lodash (high) in octo/app'],
  ['a dependabot alert without a known severity errs high', 'dependabot_alert', dependabot('unknown'), 'high', 'GitHub: dependabot alert: lodash (high) in octo/app'],
  ['a fixed dependabot alert needs no work: low', 'dependabot_alert', dependabot('critical', 'fixed'), 'low', 'GitHub: dependabot alert fixed: lodash in octo/app'],
  ['a dismissed dependabot alert is low', 'dependabot_alert', dependabot('high', 'dismissed'), 'low', 'GitHub: dependabot alert dismissed: lodash in octo/app'],
  ['a reopened dependabot alert keeps its severity', 'dependabot_alert', dependabot('high', 'reopened'), 'high', 'GitHub: dependabot alert: lodash (high) in octo/app'],
  ['a code scanning alert takes its security severity level', 'code_scanning_alert',
    { action: 'created', alert: { number: 3, rule: { id: 'js/sql-injection', description: 'Database query built from user-controlled sources', severity: 'error', security_severity_level: 'critical' } }, repository },
    'critical', 'GitHub: code scanning alert: Database query built from user-controlled sources (critical) in octo/app'],
  ['a code scanning alert without a security level maps warning to medium', 'code_scanning_alert',
    { action: 'created', alert: { number: 4, rule: { id: 'js/unused-local-variable', description: 'Unused variable', severity: 'warning' } }, repository },
    'medium', 'GitHub: code scanning alert: Unused variable (medium) in octo/app'],
  ['a secret scanning alert is always critical', 'secret_scanning_alert',
    { action: 'created', alert: { number: 2, secret_type: 'github_personal_access_token', secret_type_display_name: 'GitHub Personal Access Token' }, repository },
    'critical', 'GitHub: secret scanning alert: GitHub Personal Access Token (critical) in octo/app'],
  ['a resolved secret scanning alert is low', 'secret_scanning_alert',
    { action: 'resolved', alert: { number: 2, secret_type: 'github_personal_access_token' }, repository },
    'low', 'GitHub: secret scanning alert resolved: github_personal_access_token in octo/app'],
  ['a security advisory takes its severity (moderate → medium) and has no repository', 'security_advisory',
    { action: 'published', security_advisory: { ghsa_id: 'GHSA-rf4j-j272-fj86', summary: 'Regular expression denial of service', severity: 'moderate' } },
    'medium', 'GitHub: security advisory: Regular expression denial of service (medium)'],
  ['a repository vulnerability alert takes its severity', 'repository_vulnerability_alert',
    { action: 'create', alert: { number: 5, affected_package_name: 'minimist', severity: 'critical' }, repository },
    'critical', 'GitHub: vulnerability alert: minimist (critical) in octo/app'],
  ['a failed workflow run on the default branch is high', 'workflow_run', run('workflow_run', 'failure', 'main'), 'high', 'GitHub: workflow CI failed on main in octo/app'],
  ['a failed workflow run on another branch is medium', 'workflow_run', run('workflow_run', 'failure', 'feature/x'), 'medium', 'GitHub: workflow CI failed on feature/x in octo/app'],
  ['a timed-out workflow run on the default branch is high', 'workflow_run', run('workflow_run', 'timed_out', 'main'), 'high', 'GitHub: workflow CI failed on main in octo/app'],
  ['a successful workflow run is low', 'workflow_run', run('workflow_run', 'success', 'main'), 'low', 'GitHub: workflow CI success on main in octo/app'],
  ['a cancelled workflow run is low', 'workflow_run', run('workflow_run', 'cancelled', 'main'), 'low', 'GitHub: workflow CI cancelled on main in octo/app'],
  ['a requested workflow run (no conclusion yet) is low', 'workflow_run', { action: 'requested', workflow_run: { name: 'CI', head_branch: 'main', conclusion: null }, repository }, 'low', 'GitHub: workflow CI requested on main in octo/app'],
  ['a failed check suite on the default branch is high', 'check_suite', run('check_suite', 'failure', 'main'), 'high', 'GitHub: check suite (GitHub Actions) failed on main in octo/app'],
  ['a failed check suite elsewhere is medium', 'check_suite', run('check_suite', 'failure', 'dev'), 'medium', 'GitHub: check suite (GitHub Actions) failed on dev in octo/app'],
  ['an issue labelled bug is medium', 'issues', issue(['bug']), 'medium', 'GitHub: issue #12 opened: Crash on save in octo/app'],
  ['an issue labelled Bug among others is medium', 'issues', issue(['p1', 'Bug']), 'medium', 'GitHub: issue #12 opened: Crash on save in octo/app'],
  ['an issue just labelled bug (label event) is medium', 'issues', { ...issue([]), action: 'labeled', label: { name: 'bug' } }, 'medium', 'GitHub: issue #12 labeled: Crash on save in octo/app'],
  ['an issue without the bug label is low', 'issues', issue(['enhancement']), 'low', 'GitHub: issue #12 opened: Crash on save in octo/app'],
  ['a pull request is low', 'pull_request', { action: 'opened', number: 7, pull_request: { number: 7, title: 'Fix crash', html_url: 'https://github.com/octo/app/pull/7' }, repository }, 'low', 'GitHub: pull request #7 opened: Fix crash in octo/app'],
  ['a push is low', 'push', { ref: 'refs/heads/main', after: 'a1b2c3', commits: [{}, {}, {}], repository, compare: 'https://github.com/octo/app/compare/x...y' }, 'low', 'GitHub: push to main (3 commits) in octo/app'],
  ['a push of one commit says commit', 'push', { ref: 'refs/heads/dev', commits: [{}], repository }, 'low', 'GitHub: push to dev (1 commit) in octo/app'],
  ['any other event is low', 'star', { action: 'created', repository }, 'low', 'GitHub: star created in octo/app'],
  ['an empty payload does not throw', 'push', {}, 'low', 'GitHub: push to a branch (0 commits)']
]

for (const [name, event, payload, severity, title] of cases) {
  t.test(name, async (t) => {
    const mapped = severityFromGithub(event, payload)
    t.equal(mapped.severity, severity)
    t.equal(mapped.title, title)
    t.equal(mapped.type, event)
  })
}

t.test('source ids name what the signal is about', async (t) => {
  t.equal(severityFromGithub('dependabot_alert', dependabot('high')).sourceId, 'dependabot_alert:octo/app:7')
  t.equal(severityFromGithub('issues', issue(['bug'])).sourceId, 'octo/app#12')
  t.equal(severityFromGithub('workflow_run', run('workflow_run', 'failure', 'main')).sourceId, '30433642')
  t.equal(severityFromGithub('star', { repository }).sourceId, undefined)
})

t.test('an id beyond 2^53 is never used as a source id (JSON.parse rounded it)', async (t) => {
  t.equal(severityFromGithub('workflow_run', { workflow_run: { id: 2 ** 53 + 2, conclusion: 'failure' } }).sourceId, undefined)
})

t.test('the description links to the source', async (t) => {
  t.equal(severityFromGithub('dependabot_alert', dependabot('high')).description, 'Source: https://github.com/octo/app/security/dependabot/7')
})

t.test('an event or stated severity named after an Object.prototype member is just an unknown name', async (t) => {
  for (const event of ['valueOf', 'constructor', 'toString', '__proto__']) t.match(severityFromGithub(event, {}), { severity: 'low', type: event })
  const alert = severityFromGithub('dependabot_alert', { action: 'created', alert: { number: 1, security_advisory: { severity: 'constructor' } } })
  t.equal(alert.severity, 'high', 'an unknown stated severity errs urgent')
})

t.test('U+0000 in provider text is dropped: PostgreSQL text cannot hold it', async (t) => {
  const mapped = severityFromGithub('issues', { action: 'opened', issue: { number: 3, title: 'a\u0000b' }, repository: { full_name: 'octo/\u0000app' } })
  t.equal(mapped.title, 'GitHub: issue #3 opened: ab in octo/app')
  t.equal(mapped.sourceId, 'octo/app#3')
})
