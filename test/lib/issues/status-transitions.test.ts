import t from 'tap'
import { assertTransition, canTransition, releasesClaim } from '../../../lib/issues/status-transitions.ts'
import { issueStatuses, type IssueStatus } from '../../../lib/db/entities/issue.ts'

// The whole matrix, written out: a change to the workflow has to change this table too.
const allowed: Record<IssueStatus, IssueStatus[]> = {
  triage: ['triage', 'todo', 'in_progress', 'done', 'canceled'],
  todo: ['triage', 'todo', 'in_progress', 'done', 'canceled'],
  in_progress: ['todo', 'in_progress', 'done', 'canceled'],
  done: ['todo', 'done'],
  canceled: ['triage', 'todo', 'canceled']
}

for (const from of issueStatuses) {
  for (const to of issueStatuses) {
    const expected = allowed[from].includes(to)
    t.test(`${from} → ${to} is ${expected ? 'allowed' : 'refused'}`, async (t) => {
      t.equal(canTransition(from, to), expected)
    })
  }
}

t.test('a refused transition is a 409 CONFLICT naming both states and the way out', async (t) => {
  const error = t.throws(() => assertTransition(12, 'done', 'in_progress'))
  t.match(error, { statusCode: 409, code: 'CONFLICT', message: 'Issue #12 cannot move from done to in_progress (from done: todo)' })
})

t.test('entering triage or todo releases a claim; other states keep it', async (t) => {
  t.same(issueStatuses.filter(releasesClaim), ['triage', 'todo'])
})
