import t from 'tap'
import { clipTitle, mostSevere, priorityFromSeverity, type Severity } from '../../../lib/severity/signal-mapping.ts'

const priorities: [Severity, number][] = [['critical', 1], ['high', 2], ['medium', 3], ['low', 4]]
for (const [severity, priority] of priorities) {
  t.test(`${severity} is priority ${priority}`, async (t) => {
    t.equal(priorityFromSeverity(severity), priority)
  })
}

t.test('mostSevere picks the more urgent', async (t) => {
  t.equal(mostSevere('high', 'low'), 'high')
  t.equal(mostSevere('high', 'critical'), 'critical')
  t.equal(mostSevere('medium', 'medium'), 'medium')
})

t.test('clipTitle folds whitespace and caps the length at 500', async (t) => {
  t.equal(clipTitle('  a\n\tb  '), 'a b')
  t.equal(clipTitle('x'.repeat(500)), 'x'.repeat(500))
  t.equal(clipTitle('x'.repeat(501)), `${'x'.repeat(499)}…`)
})
