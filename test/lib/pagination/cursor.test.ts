import t from 'tap'
import { Pager, newestFirst } from '../../../lib/pagination/cursor.ts'

interface Row { priority: number, number: number }
const pager = new Pager<Row>('issues', [{ field: 'priority', dir: 'asc', kind: 'int' }, { field: 'number', dir: 'asc', kind: 'int' }])
const rows: Row[] = [{ priority: 1, number: 3 }, { priority: 2, number: 1 }, { priority: 2, number: 4 }]
const filters = { status: ['todo', 'triage'] }

t.test('a full page plus one says more follows: the iterator continues after its last row', async (t) => {
  const page = pager.page(rows, null, 2, filters, (r) => r)
  t.same(page.data, rows.slice(0, 2))
  t.equal(page.done, false)
  t.match(page.iterator, /^[A-Za-z0-9_-]+$/, 'URL-safe')
  const next = pager.position({ iterator: page.iterator! }, filters)
  t.same(next, { list: 'issues', filters: next?.filters, forward: true, key: [2, 1] })
  t.same(pager.after(next!, (field) => field), { sql: '(priority, number) > (?, ?)', params: [2, 1] })
})

t.test('an order that runs two ways is refused at start-up: a position must be one row comparison', async (t) => {
  t.throws(() => new Pager<Row>('mixed', [{ field: 'priority', dir: 'asc', kind: 'int' }, { field: 'number', dir: 'desc', kind: 'int' }]), /every column of its order must run the same way/)
})

t.test('the first page has no prevIterator; a later last page is done, and its prevIterator walks back before its first row', async (t) => {
  t.equal(pager.page(rows, null, 2, filters, (r) => r).prevIterator, null)
  const first = pager.page(rows, null, 2, filters, (r) => r)
  const page = pager.page(rows.slice(2), pager.position({ iterator: first.iterator! }, filters), 2, filters, (r) => r)
  t.equal(page.done, true)
  t.equal(page.iterator, null)
  const back = pager.position({ iterator: page.prevIterator! }, filters)
  t.equal(back?.forward, false)
  t.same(pager.after(back!, (field) => field), { sql: '(priority, number) < (?, ?)', params: [2, 4] })
  t.same(pager.orderBy(back), [{ priority: 'desc' }, { number: 'desc' }])
  // Rows come back in reverse order when paging back; the page puts them in list order again.
  const previous = pager.page([rows[1]!, rows[0]!], back, 2, filters, (r) => r)
  t.same(previous.data, [rows[0], rows[1]])
  t.equal(previous.done, false, 'the page we came from follows')
  t.equal(previous.prevIterator, null, 'nothing is before the first row')
  t.ok(pager.page([rows[2]!, rows[1]!, rows[0]!], back, 2, filters, (r) => r).prevIterator, 'a full page back with more before it leads further back')
})

t.test('an empty page has neither iterator and is done', async (t) => {
  t.same(pager.page([], null, 2, filters, (r) => r), { data: [], iterator: null, prevIterator: null, done: true })
})

t.test('filters are compared as sets: the same filters in another order are the same list', async (t) => {
  const page = pager.page(rows, null, 1, filters, (r) => r)
  t.ok(pager.position({ iterator: page.iterator! }, { status: ['triage', 'todo'] }))
})

const page = pager.page(rows, null, 1, filters, (r) => r)
const signals = newestFirst<{ id: string, createdAt: Date }>('signals', 'createdAt')
const signalPage = signals.page([{ id: '5c1d8e2f-6a3b-4c7d-8e9f-0a1b2c3d4e5f', createdAt: new Date() }, { id: '5c1d8e2f-6a3b-4c7d-8e9f-0a1b2c3d4e50', createdAt: new Date() }], null, 1, {}, (r) => r)
const foreign: [string, Pager<Row>, string, Record<string, unknown>][] = [
  ['not base64 JSON', pager, '%%%', filters],
  ['JSON that is not an array', pager, Buffer.from('{"a":1}').toString('base64url'), filters],
  ["another list's iterator", pager, signalPage.iterator!, filters],
  ['an iterator made under other filters', pager, page.iterator!, { status: ['done'] }],
  ['an iterator made without filters', pager, page.iterator!, {}],
  ['a key of the wrong kind', pager, Buffer.from(JSON.stringify(['issues', 'x', 'n', ['a', 1]])).toString('base64url'), filters]
]
for (const [name, list, iterator, under] of foreign) {
  t.test(`${name} is a 422 VALIDATION_ERROR on iterator`, async (t) => {
    const error = t.throws(() => list.position({ iterator }, under))
    t.match(error, { statusCode: 422, code: 'VALIDATION_ERROR', issues: [{ path: 'iterator', code: 'invalid_string' }] })
  })
}
