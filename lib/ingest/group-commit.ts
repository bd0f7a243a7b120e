// Group commit for ingestion (docs/operations.md#guarantees, issue 9): requests that arrive together are written
// together, in one transaction, and each is answered only once that transaction has committed.
// A commit costs a WAL flush and a few round trips whatever it holds, so sharing it between many
// deliveries is what lets ingestion run near the storage limit instead of the per-request one.
//
// Hand-written because no library does this for node-postgres: poolers (pgbouncer) and ORMs batch
// statements, not the commits of independent requests that must each learn their own outcome.
// This module is the generic part, knowing nothing of SQL: it collects items, hands a batch to a
// writer, and settles each submitter with its own item's outcome. lib/ingest/signal-batch.ts is the
// writer for provider signals.

export interface GroupCommitOptions {
  /** The most items written in one batch. */
  maxSize: number
  /**
   * How long the first item of a batch may wait for batch-mates while another batch is being
   * written. When nothing is being written the batch leaves at once (same event-loop turn's
   * arrivals included): waiting would only add latency, as the database is idle.
   */
  maxWaitMs: number
  /** Batches written at once (each holds one database connection). */
  maxInFlight: number
}

/** What a writer says about one item of its batch, in the batch's order. */
export type ItemOutcome<R> = { ok: true, value: R } | { ok: false, error: unknown }

/**
 * Writes a batch and reports every item's outcome, in order. It must only report an item as ok
 * once that item is durable; one item's failure should not fail the others.
 */
export type BatchWriter<T, R> = (items: readonly T[]) => Promise<ItemOutcome<R>[]>

/**
 * Watches the batches (metrics, traces; plugins/ingest.ts): `submitted` runs synchronously in the
 * submitter's own async context (where its request's trace is current), `writing` as a batch
 * starts, with how long its oldest item queued; what `writing` returns is called once the batch
 * is written, with whether the writer threw. `within`, if given, runs the batch's writer (in the
 * batch's trace, so that what the batch queues records it).
 */
export interface BatchObserver<T> {
  submitted?: (item: T) => void
  writing: (items: readonly T[], waitedMs: number) => ((failed: boolean) => void) | undefined
  within?: <X>(items: readonly T[], write: () => Promise<X>) => Promise<X>
}

interface Waiting<T, R> {
  item: T
  /** performance.now() when it was submitted. */
  queuedAt: number
  resolve: (value: R) => void
  reject: (error: unknown) => void
}

export class GroupCommitClosedError extends Error {
  constructor () {
    super('ingestion is shutting down')
    this.name = 'GroupCommitClosedError'
  }
}

export class GroupCommit<T, R> {
  private queue: Waiting<T, R>[] = []
  private inFlight = 0
  /** The queue's first item has waited long enough: write it as soon as a slot is free. */
  private due = false
  /** Cancels the pending wait of the queue's first item, if one is pending. */
  private timer: (() => void) | undefined
  private closed = false
  private idle: (() => void) | undefined
  private closing: Promise<void> | undefined
  /** Batches written so far and their sizes summed (for tests and operators). */
  readonly stats = { batches: 0, items: 0, largest: 0 }

  constructor (private readonly write: BatchWriter<T, R>, private readonly options: GroupCommitOptions, private readonly observers: readonly BatchObserver<T>[] = []) {
    for (const [name, value] of Object.entries(options)) {
      if (!Number.isInteger(value) || value < (name === 'maxWaitMs' ? 0 : 1)) throw new RangeError(`GroupCommit ${name} must be a positive integer (got ${value})`)
    }
  }

  /** Items waiting for a batch (not yet being written). */
  get queued (): number {
    return this.queue.length
  }

  /** Resolves with the item's own outcome once its batch has been written (committed). */
  async submit (item: T): Promise<R> {
    if (this.closed) throw new GroupCommitClosedError()
    for (const observer of this.observers) observer.submitted?.(item)
    return await new Promise<R>((resolve, reject) => {
      this.queue.push({ item, queuedAt: performance.now(), resolve, reject })
      if (this.queue.length === 1 && !this.due) this.startTimer()
      this.drain()
    })
  }

  /** Stops taking items, writes what is queued without waiting, and resolves when all is written. */
  async close (): Promise<void> {
    this.closed = true
    this.closing ??= new Promise<void>((resolve) => { this.idle = resolve })
    this.markDue()
    await this.closing
  }

  private startTimer (): void {
    // Nothing being written: go at the end of this event-loop turn. Otherwise the database is
    // busy anyway, so this batch waits a little for more company.
    if (this.inFlight === 0 || this.options.maxWaitMs === 0) {
      const immediate = setImmediate(() => this.markDue())
      this.timer = () => clearImmediate(immediate)
    } else {
      const timeout = setTimeout(() => this.markDue(), this.options.maxWaitMs)
      this.timer = () => clearTimeout(timeout)
    }
  }

  private markDue (): void {
    this.clearTimer()
    this.due = true
    this.drain()
  }

  private clearTimer (): void {
    this.timer?.()
    this.timer = undefined
  }

  private drain (): void {
    while (this.inFlight < this.options.maxInFlight && this.queue.length > 0 && (this.due || this.queue.length >= this.options.maxSize)) {
      const batch = this.queue.splice(0, this.options.maxSize)
      if (this.queue.length === 0) {
        this.due = false
        this.clearTimer()
      }
      this.inFlight++
      void this.run(batch)
    }
    if (this.queue.length === 0 && this.inFlight === 0) this.idle?.()
  }

  private async run (batch: Waiting<T, R>[]): Promise<void> {
    this.stats.batches++
    this.stats.items += batch.length
    this.stats.largest = Math.max(this.stats.largest, batch.length)
    const items = batch.map((w) => w.item)
    const waitedMs = performance.now() - (batch[0]?.queuedAt ?? 0)
    const written = this.observers.map((observer) => observer.writing(items, waitedMs))
    // Told before anyone in the batch is answered: a batch's span ends inside its requests' own.
    const finished = (failed: boolean) => { for (const done of written) done?.(failed) }
    try {
      const write = this.observers.reduce<() => Promise<ItemOutcome<R>[]>>((inner, { within }) => within === undefined ? inner : async () => await within(items, inner), async () => await this.write(items))
      const outcomes = await write().catch((error: unknown) => { finished(true); throw error })
      finished(false)
      batch.forEach((waiting, i) => {
        const outcome = outcomes[i]
        if (outcome === undefined) waiting.reject(new Error('the batch writer reported no outcome for this item'))
        else if (outcome.ok) waiting.resolve(outcome.value)
        else waiting.reject(outcome.error)
      })
    } catch (error) {
      // The writer itself failed (it should report per item): nobody in the batch is told "done".
      for (const waiting of batch) waiting.reject(error)
    } finally {
      this.inFlight--
      // Items that queued up meanwhile and whose wait is over go now; a new queue starts its timer.
      if (this.queue.length > 0 && !this.due && this.timer === undefined) this.startTimer()
      this.drain()
    }
  }
}
