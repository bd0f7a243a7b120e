// Human durations for settings such as LOOP_DELIVERY_SCHEDULE (`1m,5m,30m,2h,24h`, `100ms,200ms`).

const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }

/** `"90s"` → 90000; null when the text is not a positive duration. */
export function parseDuration (text: string): number | null {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(text.trim())
  if (match === null) return null
  const ms = Math.round(Number(match[1]) * (units[match[2] as string] as number))
  return ms > 0 ? ms : null
}

/** `"1m,5m"` → [60000, 300000]; null when any entry is invalid or the list is empty. */
export function parseDurationList (text: string): number[] | null {
  const parts = text.split(',').map((p) => p.trim()).filter((p) => p !== '')
  if (parts.length === 0) return null
  const out: number[] = []
  for (const part of parts) {
    const ms = parseDuration(part)
    if (ms === null) return null
    out.push(ms)
  }
  return out
}
