// JSON with object keys sorted at every level: equal values give equal text, whatever key order
// they arrived in (used to compare declarations and to fingerprint idempotent requests).
export function canonicalJson (value: unknown): string {
  return JSON.stringify(sortKeys(value))
}

function sortKeys (value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys)
  if (value === null || typeof value !== 'object') return value
  // A null prototype keeps a `__proto__` key an ordinary property.
  const out = Object.create(null) as Record<string, unknown>
  for (const key of Object.keys(value).sort()) out[key] = sortKeys((value as Record<string, unknown>)[key])
  return out
}
