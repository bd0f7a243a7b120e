// The JSONPath `match` and `search` functions (RFC 9535 §2.4.6–7) on RE2 (re2js), a linear-time
// engine: V8's backtracking RegExp took 1.8 s for `(a+)+b` on 28 characters, doubling per character.
// Patterns are I-Regexps (RFC 9485), checked and compiled at declaration, never at run time.
import { check as isIRegexp } from 'iregexp-check'
import { FunctionExpressionType, type FilterFunction } from 'json-p3'
import { LRUCache } from 'lru-cache'
import { RE2JS } from 're2js'
import { activeEvaluation } from './jsonpath-budget.ts'

/**
 * RE2 runs in time linear in the input but proportional to the pattern's program too, and re2js
 * pays dearly for large ones (a 1,000-instruction pattern needs ~0.3 s for 1,000 characters).
 */
export const maxRegexInstructions = 100

/** RFC 9485 §5.4: a dot outside a character class is any character but CR and LF. */
function toRe2Syntax (pattern: string): string {
  let out = ''
  let escaped = false
  let inClass = false
  for (const ch of pattern) {
    if (escaped) {
      escaped = false
    } else if (ch === '\\') {
      escaped = true
    } else if (ch === '[') {
      inClass = true
    } else if (ch === ']') {
      inClass = false
    } else if (ch === '.' && !inClass) {
      out += '[^\\n\\r]'
      continue
    }
    out += ch
  }
  return out
}

// Shared by every transform using the same pattern: compiling is the costly part, and re2js keeps
// its DFA states on the compiled object, so a reused pattern also starts warm.
const compiled = new LRUCache<string, RE2JS>({ max: 1000 })

export interface PatternRefusal { message: string, code: 'invalid_string' | 'too_big' }

/** The compiled pattern, or why it cannot be used (not an I-Regexp, refused by RE2, too large). */
export function compileIRegexp (pattern: string): RE2JS | PatternRefusal {
  const hit = compiled.get(pattern)
  if (hit !== undefined) return hit
  if (!isIRegexp(pattern)) return { code: 'invalid_string', message: `'${pattern}' is not an I-Regexp (RFC 9485): no \\d, \\w, lookaround, lazy quantifiers or (?:…); use [0-9] and plain groups` }
  let re: RE2JS
  try {
    re = RE2JS.compile(toRe2Syntax(pattern))
  } catch (error) {
    return { code: 'invalid_string', message: `'${pattern}' cannot run on RE2: ${(error as Error).message}` }
  }
  if (re.programSize() > maxRegexInstructions) return { code: 'too_big', message: `'${pattern}' compiles to ${re.programSize()} RE2 instructions (at most ${maxRegexInstructions}): use smaller repetition counts` }
  compiled.set(pattern, re)
  return re
}

/**
 * `match` (the whole string) or `search` (any substring). Only patterns the running transform
 * compiled from its own literals are used: a pattern taken from the payload is never compiled.
 */
class Re2Function implements FilterFunction {
  readonly argTypes = [FunctionExpressionType.ValueType, FunctionExpressionType.ValueType]
  readonly returnType = FunctionExpressionType.LogicalType

  constructor (private readonly whole: boolean) {}

  call (value: unknown, pattern: unknown): boolean {
    if (typeof value !== 'string' || typeof pattern !== 'string') return false
    const evaluation = activeEvaluation()
    const re = evaluation?.patterns.get(pattern)
    if (evaluation === null || re === undefined) return false
    evaluation.budget.chargeRegex(value.length, re.programSize())
    return this.whole ? re.testExact(value) : re.test(value)
  }
}

export const re2Match = new Re2Function(true)
export const re2Search = new Re2Function(false)
