// Copies within one batch (lib/ingest): two items that the unique indexes would treat as one (the
// same delivery, the same eventId) are written once, and the later copies take the first's answer
// as duplicates, exactly what they would have got arriving just after it.

/**
 * For each item, the index of the first item sharing one of its keys (itself when none does). An
 * item with several keys (a delivery id and a body hash) is a copy if any of them was seen.
 */
export function firstCopies<T> (items: readonly T[], keysOf: (item: T) => readonly string[]): number[] {
  const firstOfKey = new Map<string, number>()
  return items.map((item, i) => {
    const keys = keysOf(item)
    const first = keys.map((key) => firstOfKey.get(key)).find((index) => index !== undefined) ?? i
    for (const key of keys) if (!firstOfKey.has(key)) firstOfKey.set(key, first)
    return first
  })
}

/** Each item's outcome: its first copy's, marked a duplicate for the later copies. */
export function answerCopies<R extends { duplicate?: boolean }, O extends { ok: true, value: R } | { ok: false, error: unknown }> (
  copyOf: readonly number[], outcomeOf: (first: number) => O
): O[] {
  return copyOf.map((first, i) => {
    const outcome = outcomeOf(first)
    if (first === i || !outcome.ok) return outcome
    return { ...outcome, value: { ...outcome.value, duplicate: true } }
  })
}
