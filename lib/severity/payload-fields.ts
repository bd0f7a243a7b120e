// Reading fields out of provider payloads, which are untrusted JSON of any shape: every reader
// returns undefined instead of throwing when a path is missing or holds the wrong type. Text comes
// back without U+0000, which PostgreSQL text columns (issue titles, signal types) cannot hold.

const withoutNul = (text: string) => (text.includes('\u0000') ? text.replaceAll('\u0000', '') : text)

/** The value at a dot path (`data.issue.title`), or undefined. */
export function valueAt (payload: unknown, path: string): unknown {
  let current: unknown = payload
  for (const key of path.split('.')) {
    if (current === null || typeof current !== 'object' || Array.isArray(current)) return undefined
    if (!Object.hasOwn(current, key)) return undefined
    current = (current as Record<string, unknown>)[key]
  }
  return current
}

/** A non-empty string at the first of `paths` that has one. */
export function textAt (payload: unknown, ...paths: string[]): string | undefined {
  for (const path of paths) {
    const value = valueAt(payload, path)
    const text = typeof value === 'string' ? withoutNul(value).trim() : ''
    if (text !== '') return text
  }
  return undefined
}

/** A finite number at the first of `paths` that has one; numeric strings count (Sentry sends `"count": "523"`). */
export function numberAt (payload: unknown, ...paths: string[]): number | undefined {
  for (const path of paths) {
    const value = valueAt(payload, path)
    if (typeof value === 'number' && Number.isFinite(value)) return value
    if (typeof value === 'string' && value.trim() !== '') {
      const parsed = Number(value.trim().replace(/%$/, ''))
      if (Number.isFinite(parsed)) return parsed
    }
  }
  return undefined
}

/**
 * An identifier at the first of `paths` that has one, as text. Numbers only count when they are
 * safe integers: JSON.parse rounds larger ones, and an id must never be derived from a rounded value.
 */
export function idAt (payload: unknown, ...paths: string[]): string | undefined {
  for (const path of paths) {
    const value = valueAt(payload, path)
    const text = typeof value === 'string' ? withoutNul(value).trim() : ''
    if (text !== '') return text
    if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value)
  }
  return undefined
}

/** The array at `path`, or an empty one. */
export function listAt (payload: unknown, path: string): unknown[] {
  const value = valueAt(payload, path)
  return Array.isArray(value) ? value : []
}
