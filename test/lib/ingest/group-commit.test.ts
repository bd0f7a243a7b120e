import t from 'tap'
import { GroupCommit, GroupCommitClosedError, type ItemOutcome } from '../../../lib/ingest/group-commit.ts'

/** A writer whose batches stay open until the test finishes them, recording what it was given. */
function heldWriter () {
  const batches: { items: number[], finish: (outcomes?: ItemOutcome<string>[]) => void, fail: (error: Error) => void }[] = []
  const write = async (items: readonly number[]) => await new Promise<ItemOutcome<string>[]>((resolve, reject) => {
    batches.push({
      items: [...items],
      finish: (outcomes) => { resolve(outcomes ?? items.map((n) => ({ ok: true, value: `stored ${n}` }))) },
      fail: reject
    })
  })
  return { batches, write }
}

const settle = async () => { await new Promise((resolve) => setImmediate(resolve)) }

t.test('with nothing being written, a batch leaves at once with what arrived in the same turn', async (t) => {
  const { batches, write } = heldWriter()
  const group = new GroupCommit(write, { maxSize: 10, maxWaitMs: 1000, maxInFlight: 2 })
  const answers = [1, 2, 3].map(async (n) => await group.submit(n))
  await settle()
  t.same(batches.map((b) => b.items), [[1, 2, 3]])
  batches[0]?.finish()
  t.same(await Promise.all(answers), ['stored 1', 'stored 2', 'stored 3'], 'each submitter gets its own outcome')
})

t.test('while the slots are busy, arrivals queue and leave together, never more than maxSize at a time', async (t) => {
  const { batches, write } = heldWriter()
  const group = new GroupCommit(write, { maxSize: 4, maxWaitMs: 0, maxInFlight: 1 })
  const first = group.submit(0)
  await settle()
  const rest = Array.from({ length: 9 }, async (_, i) => await group.submit(i + 1))
  await settle()
  t.equal(batches.length, 1, 'one batch in flight at most')
  t.equal(group.queued, 9)
  batches[0]?.finish()
  await first
  await settle()
  t.same(batches.map((b) => b.items), [[0], [1, 2, 3, 4]])
  batches[1]?.finish()
  await settle()
  batches[2]?.finish()
  await settle()
  t.same(batches.map((b) => b.items), [[0], [1, 2, 3, 4], [5, 6, 7, 8], [9]])
  batches[3]?.finish()
  t.equal((await Promise.all(rest)).length, 9)
  t.same(group.stats, { batches: 4, items: 10, largest: 4 })
})

t.test('a full batch leaves without waiting, up to maxInFlight at once; a partial one waits up to maxWaitMs for company', async (t) => {
  const { batches, write } = heldWriter()
  const group = new GroupCommit(write, { maxSize: 2, maxWaitMs: 60_000, maxInFlight: 2 })
  const answers = Array.from({ length: 7 }, async (_, i) => await group.submit(i))
  await settle()
  t.same(batches.map((b) => b.items), [[0, 1], [2, 3]], 'two full batches in flight, the rest waits for a slot')
  batches[0]?.finish()
  await settle()
  t.same(batches.map((b) => b.items), [[0, 1], [2, 3], [4, 5]])
  batches[1]?.finish()
  batches[2]?.finish()
  await settle()
  t.equal(batches.length, 3, 'the last item arrived while others were being written: it waits for batch-mates')
  t.equal(group.queued, 1)
  const closing = group.close()
  await settle()
  t.same(batches[3]?.items, [6], 'close sends it without the rest of its wait')
  batches[3]?.finish()
  await closing
  t.equal((await Promise.all(answers)).length, 7)
})

t.test('an item the writer reports as failed is rejected alone; its batch-mates resolve', async (t) => {
  const { batches, write } = heldWriter()
  const group = new GroupCommit(write, { maxSize: 10, maxWaitMs: 0, maxInFlight: 1 })
  const answers = [1, 2, 3].map(async (n) => await group.submit(n).catch((error: Error) => error.message))
  await settle()
  batches[0]?.finish([{ ok: true, value: 'a' }, { ok: false, error: new Error('refused') }, { ok: true, value: 'c' }])
  t.same(await Promise.all(answers), ['a', 'refused', 'c'])
})

t.test('a writer that throws fails every item of its batch and nothing else', async (t) => {
  const { batches, write } = heldWriter()
  const group = new GroupCommit(write, { maxSize: 2, maxWaitMs: 0, maxInFlight: 1 })
  const answers = [1, 2, 3].map(async (n) => await group.submit(n).catch((error: Error) => error.message))
  await settle()
  batches[0]?.fail(new Error('connection lost'))
  await settle()
  batches[1]?.finish()
  t.same(await Promise.all(answers), ['connection lost', 'connection lost', 'stored 3'])
})

t.test('close writes what is queued, waits for it, then refuses new items', async (t) => {
  const { batches, write } = heldWriter()
  const group = new GroupCommit(write, { maxSize: 10, maxWaitMs: 60_000, maxInFlight: 1 })
  const first = group.submit(1)
  await settle()
  const second = group.submit(2)
  let closed = false
  const closing = group.close().then(() => { closed = true })
  batches[0]?.finish()
  await settle()
  t.notOk(closed, 'the queued item is still being written')
  t.same(batches.map((b) => b.items), [[1], [2]], 'queued items leave at close without their wait')
  batches[1]?.finish()
  await closing
  t.same(await Promise.all([first, second]), ['stored 1', 'stored 2'])
  await t.rejects(group.submit(3), GroupCommitClosedError)
})

t.test('bounds must be positive integers (the wait may be 0)', async (t) => {
  const write = async () => []
  t.throws(() => new GroupCommit(write, { maxSize: 0, maxWaitMs: 0, maxInFlight: 1 }), /maxSize/)
  t.throws(() => new GroupCommit(write, { maxSize: 1, maxWaitMs: -1, maxInFlight: 1 }), /maxWaitMs/)
  t.throws(() => new GroupCommit(write, { maxSize: 1, maxWaitMs: 0, maxInFlight: 1.5 }), /maxInFlight/)
  t.doesNotThrow(() => new GroupCommit(write, { maxSize: 1, maxWaitMs: 0, maxInFlight: 1 }))
})

t.test('observers see each submission in its submitter\'s turn and each batch once, told it is written before anyone is answered', async (t) => {
  const { batches, write } = heldWriter()
  const seen: string[] = []
  const observer = {
    submitted: (item: number) => { seen.push(`submitted ${item}`) },
    writing: (items: readonly number[], waitedMs: number) => {
      seen.push(`writing ${items.join(',')}`)
      t.ok(waitedMs >= 0, 'the oldest item\'s wait is measured')
      return (failed: boolean) => { seen.push(failed ? 'failed' : 'written') }
    }
  }
  const group = new GroupCommit(write, { maxSize: 10, maxWaitMs: 0, maxInFlight: 1 }, [observer])
  const answers = [1, 2].map(async (n) => { const answer = await group.submit(n); seen.push(`answered ${n}`); return answer })
  await settle()
  batches[0]?.finish()
  await Promise.all(answers)
  t.same(seen, ['submitted 1', 'submitted 2', 'writing 1,2', 'written', 'answered 1', 'answered 2'])

  seen.length = 0
  const refused = group.submit(3)
  await settle()
  batches[1]?.fail(new Error('the database went away'))
  await t.rejects(refused, /went away/)
  t.same(seen, ['submitted 3', 'writing 3', 'failed'], 'a writer that throws is reported as failed')
})
