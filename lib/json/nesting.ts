// How deeply a JSON text nests, found by one linear scan of its bytes before any parser or
// recursive code (canonical hashing, transforms, JSON.stringify, jsonb) sees it (docs/operations.md#guarantees).
// Every JSON body parser in Loop calls this: the app-wide one (plugins/json-body.ts) and the
// inbound webhooks' raw parser (routes/webhooks/inbound-source.ts).
//
// Written here rather than taken from a library: the JSON parsers on npm either recurse themselves
// or build the whole value first, and this needs neither, only bracket counting outside strings.
import { badRequest, type AppError } from '../errors.ts'

const quote = 0x22
const backslash = 0x5c
const openBrace = 0x7b
const closeBrace = 0x7d
const openBracket = 0x5b
const closeBracket = 0x5d

/**
 * True when objects and arrays in `json` nest more than `maxDepth` levels (`{}` is one level).
 * Brackets inside string literals are text; invalid JSON is scanned the same way and left for the
 * parser to refuse. UTF-8 multi-byte sequences never contain these ASCII bytes.
 */
export function exceedsNesting (json: Uint8Array, maxDepth: number): boolean {
  let depth = 0
  const n = json.length
  for (let i = 0; i < n; i++) {
    const c = json[i]
    if (c === quote) {
      for (i++; i < n; i++) {
        const d = json[i]
        if (d === backslash) i++
        else if (d === quote) break
      }
    } else if (c === openBrace || c === openBracket) {
      if (++depth > maxDepth) return true
    } else if ((c === closeBrace || c === closeBracket) && depth > 0) {
      depth--
    }
  }
  return false
}

/** The 400 for a body over the limit (docs/api.md#errors: a body Loop will not parse is BAD_REQUEST). */
export function nestedTooDeep (maxDepth: number): AppError {
  return badRequest(`Body is nested more than ${maxDepth} levels deep`)
}
