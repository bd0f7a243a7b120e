// An endpoint's custom headers (docs/webhooks.md#custom-headers): which names it may set, and how a
// PATCH changes them. Loop's own headers must stay Loop's (a receiver verifies the signature and
// deduplicates on them), and connection-level ones belong to the HTTP client: a custom Host,
// Content-Length or Transfer-Encoding would change where or how the request goes. Values may be
// the receiver's API keys: they are only ever put on the request, never in a message or a log.
import type { ValidationIssue } from '../errors.ts'

export type CustomHeaders = Record<string, string>

/** The most headers one endpoint may add. */
export const MAX_CUSTOM_HEADERS = 20

const loopOwn = new Set(['content-type', 'content-length', 'content-encoding', 'user-agent'])
const loopPrefixes = ['x-loop-', 'webhook-']
const connectionLevel = new Set(['host', 'connection', 'keep-alive', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'expect'])
const connectionPrefixes = ['proxy-']
// RFC 9110 section 5.6.2: a field name is a token.
const token = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}$/

/** Why `name` may not be a custom header; null when it may. */
export function headerNameProblem (name: string): string | null {
  if (!token.test(name)) return `${JSON.stringify(name)} is not a valid header name (letters, digits and !#$%&'*+.^_\`|~-, at most 100)`
  const lower = name.toLowerCase()
  if (loopOwn.has(lower) || loopPrefixes.some((prefix) => lower.startsWith(prefix))) return `${name} is set by Loop on every delivery and cannot be replaced`
  if (connectionLevel.has(lower) || connectionPrefixes.some((prefix) => lower.startsWith(prefix))) return `${name} is a hop-by-hop or connection header, which the HTTP client sets`
  return null
}

const issue = (path: string, message: string): ValidationIssue => ({ path, message, code: 'custom' })

function nameIssues (names: readonly string[], path: string): ValidationIssue[] {
  return names.flatMap((name) => {
    const problem = headerNameProblem(name)
    return problem === null ? [] : [issue(`${path}.${name}`, problem)]
  })
}

function duplicateIssues (names: readonly string[], path: string): ValidationIssue[] {
  const seen = new Map<string, string>()
  return names.flatMap((name) => {
    const first = seen.get(name.toLowerCase())
    if (first === undefined) seen.set(name.toLowerCase(), name)
    return first === undefined ? [] : [issue(`${path}.${name}`, `${name} is given twice (as ${first} too): header names are case-insensitive`)]
  })
}

const countIssues = (headers: Readonly<CustomHeaders>, path: string) =>
  Object.keys(headers).length > MAX_CUSTOM_HEADERS ? [issue(path, `at most ${MAX_CUSTOM_HEADERS} custom headers`)] : []

/** The issues of the headers given at registration: each name refused, a name given twice (in any case), too many. */
export function customHeaderIssues (headers: Readonly<CustomHeaders>, path = 'headers'): ValidationIssue[] {
  const names = Object.keys(headers)
  return [...nameIssues(names, path), ...duplicateIssues(names, path), ...countIssues(headers, path)]
}

/**
 * `current` changed by a PATCH's `headers`: a string sets that header (replacing one of the same
 * name in any case, under the new spelling), null removes it (a name never set is no issue).
 */
export function patchHeaders (current: Readonly<CustomHeaders>, patch: Readonly<Record<string, string | null>>, path = 'headers'): { headers: CustomHeaders, issues: ValidationIssue[] } {
  const changed = new Set(Object.keys(patch).map((name) => name.toLowerCase()))
  // Built from entries (own properties), never by assignment: a header named __proto__ stays a header.
  const headers: CustomHeaders = Object.fromEntries([
    ...Object.entries(current).filter(([name]) => !changed.has(name.toLowerCase())),
    ...Object.entries(patch).filter((entry): entry is [string, string] => entry[1] !== null)
  ])
  const set = Object.keys(patch).filter((name) => patch[name] !== null)
  return { headers, issues: [...nameIssues(set, path), ...duplicateIssues(Object.keys(patch), path), ...countIssues(headers, path)] }
}

/** What the API shows of them: the names, sorted; never the values. */
export const headerNames = (headers: Readonly<CustomHeaders> | null | undefined) =>
  Object.keys(headers ?? {}).sort((a, b) => a.toLowerCase().localeCompare(b.toLowerCase()))
