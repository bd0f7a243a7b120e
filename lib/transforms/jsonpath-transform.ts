// Transforms map a provider payload onto an event's fields (docs/events.md#transforms): each target field is an
// RFC 9535 JSONPath (`"$.note_attributes.brand_id"`) or a literal. Paths compile once, at
// declaration, with json-p3: a standard RFC 9535 parser with no script expressions, no eval and
// no Function, so `$..[?(@.constructor...)]` is a syntax error, never code. Declarations are
// bounded in size and shape, and every evaluation in work (lib/transforms/jsonpath-budget.ts).
import { JSONPathEnvironment, JSONPathError, JSONPathRecursionLimitError, TokenKind, jsonpath, type JSONPathQuery } from 'json-p3'
import { RE2JS } from 're2js'
import type { ValidationIssue } from '../errors.ts'
import type { FieldSpecs } from '../events/field-schema.ts'
import { BudgetExceeded, EvaluationBudget, chargeQuery, maxEvaluationNodes, maxRegexSteps, withEvaluation } from './jsonpath-budget.ts'
import { compileIRegexp, maxRegexInstructions, re2Match, re2Search } from './jsonpath-regex.ts'

export type TransformSpec = Record<string, unknown>
export interface TransformResult {
  values: Record<string, unknown>
  /** Why evaluation stopped early (the budget), at `transform.<field>`; the fields after it are missing. */
  issues: ValidationIssue[]
}
export type CompiledTransform = (payload: unknown) => TransformResult

/** What a declaration may hold (documented in the README's inbound section and the contract). */
export const transformLimits = {
  /** Target fields; the contract's `Transform.maxProperties`. */
  fields: 200,
  /** The transform's JSON text. */
  bytes: 64 * 1024,
  /** Nesting of a literal value (`{}` and `[]` are one level each). */
  literalDepth: 8,
  pathLength: 500,
  /** `..` segments in one path, those inside its filters included: each walks a whole subtree. */
  descendantSegments: 1,
  /** A filter inside a filter is 2: each level runs once per candidate of the level above. */
  filterDepth: 2,
  /** The selector counts of a path's segments multiplied: `[*,*]` twice already visits each node four times. */
  selectorProduct: 16,
  /** Distinct `match`/`search` patterns in one transform: compiling one costs up to tens of ms. */
  patterns: 8,
  regexInstructions: maxRegexInstructions,
  evaluationNodes: maxEvaluationNodes,
  regexSteps: maxRegexSteps
} as const

/** RFC 9535 with `match` and `search` on RE2. */
class TransformEnvironment extends JSONPathEnvironment {
  protected override setupFilterFunctions (): void {
    super.setupFilterFunctions()
    this.functionRegister.set('match', re2Match)
    this.functionRegister.set('search', re2Search)
  }
}
const environment = new TransformEnvironment()

/** A string starting with `$` is a JSONPath; anything else is a literal copied as is. */
const isPath = (value: unknown): value is string => typeof value === 'string' && value.startsWith('$')

const { FilterSelector } = jsonpath.selectors
const { RelativeQuery, RootQuery, FunctionExtension, InfixExpression, PrefixExpression, LogicalExpression, StringLiteral } = jsonpath.expressions
type Expression = InstanceType<typeof jsonpath.expressions.FilterExpression>

interface PathShape {
  descendantSegments: number
  filterDepth: number
  selectorProduct: number
  /** Literal patterns of `match` and `search`. */
  patterns: Set<string>
  problems: string[]
}

function describeQuery (query: JSONPathQuery, shape: PathShape, filterDepth: number): void {
  for (const segment of query.segments) {
    if (segment.token.kind === TokenKind.DDOT) shape.descendantSegments++
    shape.selectorProduct *= Math.max(1, segment.selectors.length)
    for (const selector of segment.selectors) {
      if (!(selector instanceof FilterSelector)) continue
      shape.filterDepth = Math.max(shape.filterDepth, filterDepth + 1)
      describeExpression(selector.expression, shape, filterDepth + 1)
    }
  }
}

function describeExpression (expression: Expression, shape: PathShape, filterDepth: number): void {
  if (expression instanceof RelativeQuery) {
    describeQuery(expression.path, shape, filterDepth)
  } else if (expression instanceof RootQuery) {
    if (!expression.path.singularQuery()) shape.problems.push(`A root query in a filter runs again for every candidate, so it must be singular (names and indexes only): ${expression.toString()}`)
    describeQuery(expression.path, shape, filterDepth)
  } else if (expression instanceof FunctionExtension) {
    if (expression.name === 'match' || expression.name === 'search') {
      const pattern = expression.args[1]
      if (pattern instanceof StringLiteral) shape.patterns.add(pattern.value)
      else shape.problems.push(`The pattern of ${expression.name}() must be a string literal, so it can be checked here rather than taken from the payload`)
    }
    for (const arg of expression.args) describeExpression(arg, shape, filterDepth)
  } else if (expression instanceof InfixExpression) {
    describeExpression(expression.left, shape, filterDepth)
    describeExpression(expression.right, shape, filterDepth)
  } else if (expression instanceof PrefixExpression) {
    describeExpression(expression.right, shape, filterDepth)
  } else if (expression instanceof LogicalExpression) {
    describeExpression(expression.expression, shape, filterDepth)
  }
}

function shapeOf (query: JSONPathQuery): PathShape {
  const shape: PathShape = { descendantSegments: 0, filterDepth: 0, selectorProduct: 1, patterns: new Set(), problems: [] }
  describeQuery(query, shape, 0)
  return shape
}

/** Issues of one path's shape: what makes its evaluation cost grow faster than the payload. */
function shapeIssues (shape: PathShape, path: string): ValidationIssue[] {
  const issues: ValidationIssue[] = shape.problems.map((message) => ({ path, message, code: 'invalid_string' }))
  if (shape.descendantSegments > transformLimits.descendantSegments) issues.push({ path, message: `A path may hold at most ${transformLimits.descendantSegments} descendant segment (..), filters included`, code: 'too_big' })
  if (shape.filterDepth > transformLimits.filterDepth) issues.push({ path, message: `Filters nest at most ${transformLimits.filterDepth} deep`, code: 'too_big' })
  if (shape.selectorProduct > transformLimits.selectorProduct) issues.push({ path, message: `The selector lists of this path multiply to ${shape.selectorProduct} (at most ${transformLimits.selectorProduct})`, code: 'too_big' })
  return issues
}

/** True when `value` nests deeper than `levels` objects or arrays; stops looking past that. */
function deeperThan (value: unknown, levels: number): boolean {
  if (value === null || typeof value !== 'object') return false
  if (levels === 0) return true
  return Object.values(value).some((child) => deeperThan(child, levels - 1))
}

/**
 * Issues for a transform that is not an object or over the limits, and for every field whose
 * JSONPath does not parse, is shaped for unbounded work, or that the event type does not have.
 */
export function checkTransform (transform: unknown, fields: FieldSpecs | null, base = 'transform'): ValidationIssue[] {
  if (transform === null || typeof transform !== 'object' || Array.isArray(transform)) {
    return [{ path: base, message: 'Expected an object mapping field names to JSONPath expressions or literals', code: 'invalid_type' }]
  }
  const entries = Object.entries(transform)
  if (entries.length > transformLimits.fields) return [{ path: base, message: `At most ${transformLimits.fields} fields`, code: 'too_big' }]
  // Depth first: a literal nested thousands deep would overflow the stack of JSON.stringify below.
  const deep: ValidationIssue[] = entries.filter(([, value]) => !isPath(value) && deeperThan(value, transformLimits.literalDepth))
    .map(([field]) => ({ path: `${base}.${field}`, message: `Literal values nest at most ${transformLimits.literalDepth} levels deep`, code: 'too_big' }))
  if (deep.length > 0) return deep
  if (Buffer.byteLength(JSON.stringify(transform)) > transformLimits.bytes) return [{ path: base, message: `At most ${transformLimits.bytes / 1024} KiB of JSON`, code: 'too_big' }]
  const issues: ValidationIssue[] = []
  const patterns = new Map<string, string[]>()
  for (const [field, expression] of entries) {
    const path = `${base}.${field}`
    // Own fields only: `in` would also find `constructor` or `toString` on every object.
    if (fields !== null && !Object.hasOwn(fields, field)) {
      issues.push({ path, message: `The event type has no field '${field}'`, code: 'unrecognized_keys' })
      continue
    }
    if (!isPath(expression)) continue
    if (expression.length > transformLimits.pathLength) {
      issues.push({ path, message: `JSONPath longer than ${transformLimits.pathLength} characters`, code: 'too_big' })
      continue
    }
    let query: JSONPathQuery
    try {
      query = environment.compile(expression)
    } catch (error) {
      issues.push({ path, message: `Invalid JSONPath: ${(error as Error).message}`, code: 'invalid_string' })
      continue
    }
    const shape = shapeOf(query)
    issues.push(...shapeIssues(shape, path))
    for (const pattern of shape.patterns) patterns.set(pattern, [...(patterns.get(pattern) ?? []), path])
  }
  // Counted before any is compiled: compiling is the costly part.
  if (patterns.size > transformLimits.patterns) return [...issues, { path: base, message: `At most ${transformLimits.patterns} distinct regular expressions`, code: 'too_big' }]
  for (const [pattern, paths] of patterns) {
    const compiled = compileIRegexp(pattern)
    if (!(compiled instanceof RE2JS)) issues.push(...paths.map((path) => ({ path, ...compiled })))
  }
  return issues
}

interface Step { field: string, query: JSONPathQuery | null, literal: unknown }

/**
 * Compiles a checked transform. A path with no match leaves the field out (so a required field is
 * reported as missing); a path with several matches yields the first, and evaluation stops there.
 * Each evaluation has its own budget: a path that would exceed it is not run, and the result says so.
 */
export function compileTransform (transform: TransformSpec): CompiledTransform {
  const patterns = new Map<string, RE2JS>()
  const steps: Step[] = Object.entries(transform).map(([field, expression]) => {
    if (!isPath(expression)) return { field, query: null, literal: expression }
    const query = environment.compile(expression)
    // A stored pattern that no longer passes the check is left out: its function answers false.
    for (const pattern of shapeOf(query).patterns) {
      const compiled = compileIRegexp(pattern)
      if (compiled instanceof RE2JS) patterns.set(pattern, compiled)
    }
    return { field, query, literal: undefined }
  })
  return (payload) => {
    const values: Record<string, unknown> = {}
    const budget = new EvaluationBudget()
    let field = ''
    try {
      withEvaluation({ budget, patterns }, () => {
        for (const step of steps) {
          field = step.field
          if (step.query === null) {
            values[step.field] = step.literal
            continue
          }
          chargeQuery(step.query, payload, payload, budget)
          const first = step.query.lazyQuery(payload as never).next()
          if (first.done !== true) values[step.field] = first.value.value
        }
      })
    } catch (error) {
      if (!(error instanceof BudgetExceeded || error instanceof JSONPathError)) throw error
      const code = error instanceof JSONPathError && !(error instanceof JSONPathRecursionLimitError) ? 'invalid_string' : 'too_big'
      return { values, issues: [{ path: `transform.${field}`, message: error.message, code }] }
    }
    return { values, issues: [] }
  }
}

/**
 * Lossless conversions toward the declared field types, so a numeric provider id fills a string
 * field and a Unix timestamp fills a datetime field. Nothing else is changed; validation still
 * decides.
 */
export function coerceToFields (values: Record<string, unknown>, fields: FieldSpecs): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [name, value] of Object.entries(values)) {
    const type = fields[name]?.type
    if (type === 'datetime' && typeof value === 'number' && Number.isFinite(value)) {
      // Providers send seconds (BigCommerce) or milliseconds; 1e11 s is the year 5138.
      out[name] = new Date(value < 1e11 ? value * 1000 : value).toISOString()
    } else if ((type === 'string' || type === 'enum') && (typeof value === 'number' || typeof value === 'boolean')) {
      out[name] = String(value)
    } else {
      out[name] = value
    }
  }
  return out
}
