// JSON.parse loses digits past 2^53 (Shopify's 820982911946154508 becomes 820982911946154500).
// Provider payloads are parsed here instead: integers too long to be exact arrive as strings
// holding every digit, so ids mapped by a transform are never derived from rounded numbers.

/** Integers with more digits than this may not survive a float64 round trip. */
const safeDigits = 15

/** Parses JSON, turning each integer literal of more than 15 digits into a string of its digits. */
export function parseJsonExact (text: string): unknown {
  return JSON.parse(quoteLongIntegers(text))
}

export function quoteLongIntegers (text: string): string {
  let out = ''
  let copiedUpTo = 0
  let i = 0
  const n = text.length
  while (i < n) {
    const c = text.charCodeAt(i)
    if (c === 34 /* " */) {
      // Skip the whole string literal, honouring escapes.
      i++
      while (i < n) {
        const d = text.charCodeAt(i)
        if (d === 92 /* \ */) i += 2
        else if (d === 34) { i++; break } else i++
      }
      continue
    }
    if (c === 45 /* - */ || (c >= 48 && c <= 57)) {
      const start = i
      if (c === 45) i++
      while (i < n && text.charCodeAt(i) >= 48 && text.charCodeAt(i) <= 57) i++
      const digitsEnd = i
      let integer = true
      while (i < n) {
        const d = text.charCodeAt(i)
        if (d === 46 || d === 101 || d === 69 || d === 43 || d === 45 || (d >= 48 && d <= 57)) { integer = false; i++ } else break
      }
      const digits = digitsEnd - start - (c === 45 ? 1 : 0)
      if (integer && digits > safeDigits) {
        out += text.slice(copiedUpTo, start) + '"' + text.slice(start, digitsEnd) + '"'
        copiedUpTo = digitsEnd
      }
      continue
    }
    i++
  }
  return copiedUpTo === 0 ? text : out + text.slice(copiedUpTo)
}
