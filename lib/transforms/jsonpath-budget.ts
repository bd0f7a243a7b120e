// What one transform evaluation may spend, so a payload (up to LOOP_BODY_LIMIT) cannot make a
// declared transform stall the process: nodes visited by its paths, and characters × instructions
// scanned by its regular expressions. Counted, not timed, so the outcome never depends on load.
import { jsonpath, TokenKind, type JSONPathQuery } from 'json-p3'
import type { RE2JS } from 're2js'

/** Node visits per evaluation: json-p3 needs up to ~1.5 µs for one (a key of a very wide object). */
export const maxEvaluationNodes = 10_000
/** Characters × RE2 instructions per evaluation: re2js needs a few ns for one. */
export const maxRegexSteps = 2_000_000

export class BudgetExceeded extends Error {}

export class EvaluationBudget {
  private nodes = 0
  private regexSteps = 0

  chargeNodes (count: number): void {
    this.nodes += count
    if (this.nodes > maxEvaluationNodes) throw new BudgetExceeded(`Evaluating this path on this payload would visit more than ${maxEvaluationNodes} nodes, the budget of one transform; select a narrower part of the payload`)
  }

  chargeRegex (length: number, instructions: number): void {
    this.regexSteps += (length + 1) * instructions
    if (this.regexSteps > maxRegexSteps) throw new BudgetExceeded(`The regular expressions of this transform would scan more than ${maxRegexSteps} character steps of this payload (length × pattern size), the budget of one transform`)
  }
}

export interface Evaluation {
  budget: EvaluationBudget
  /** The transform's own literal patterns, compiled at declaration. */
  patterns: ReadonlyMap<string, RE2JS>
}

// Evaluation is synchronous, so the filter functions json-p3 calls find theirs here.
let active: Evaluation | null = null

export function activeEvaluation (): Evaluation | null {
  return active
}

export function withEvaluation<T> (evaluation: Evaluation, run: () => T): T {
  const outer = active
  active = evaluation
  try {
    return run()
  } finally {
    active = outer
  }
}

const { NameSelector, IndexSelector, FilterSelector } = jsonpath.selectors
const { RelativeQuery, RootQuery, FunctionExtension, InfixExpression, PrefixExpression, LogicalExpression } = jsonpath.expressions
type Expression = InstanceType<typeof jsonpath.expressions.FilterExpression>

function * children (value: unknown): Generator<unknown> {
  if (Array.isArray(value)) {
    yield * value
  } else if (value !== null && typeof value === 'object') {
    for (const key in value) if (Object.hasOwn(value, key)) yield (value as Record<string, unknown>)[key]
  }
}

// json-p3 refuses to descend further (JSONPathRecursionLimitError), so the walk stops there too.
const maxDescent = 50

function descendants (value: unknown, budget: EvaluationBudget, out: unknown[], depth = 1): void {
  budget.chargeNodes(1)
  out.push(value)
  if (depth >= maxDescent) return
  for (const child of children(value)) descendants(child, budget, out, depth + 1)
}

function chargeExpression (expression: Expression, current: unknown, root: unknown, budget: EvaluationBudget): void {
  if (expression instanceof RelativeQuery) chargeQuery(expression.path, current, root, budget)
  else if (expression instanceof RootQuery) chargeQuery(expression.path, root, root, budget)
  else if (expression instanceof InfixExpression) {
    chargeExpression(expression.left, current, root, budget)
    chargeExpression(expression.right, current, root, budget)
  } else if (expression instanceof PrefixExpression) chargeExpression(expression.right, current, root, budget)
  else if (expression instanceof LogicalExpression) chargeExpression(expression.expression, current, root, budget)
  else if (expression instanceof FunctionExtension) for (const arg of expression.args) chargeExpression(arg, current, root, budget)
}

/**
 * Charges, before json-p3 runs `query`, at least the node visits it can make: the same walk, with
 * every filter assumed to keep every candidate (so later segments are charged for all of them)
 * and each candidate charged for the queries its filter runs. Throws BudgetExceeded once over.
 */
export function chargeQuery (query: JSONPathQuery, value: unknown, root: unknown, budget: EvaluationBudget): void {
  let nodes: unknown[] = [value]
  for (const segment of query.segments) {
    const next: unknown[] = []
    for (const node of nodes) {
      const targets: unknown[] = []
      if (segment.token.kind === TokenKind.DDOT) descendants(node, budget, targets)
      else targets.push(node)
      for (const target of targets) {
        for (const selector of segment.selectors) {
          budget.chargeNodes(1)
          if (selector instanceof NameSelector) {
            if (target !== null && typeof target === 'object' && !Array.isArray(target) && Object.hasOwn(target, selector.name)) next.push((target as Record<string, unknown>)[selector.name])
          } else if (selector instanceof IndexSelector) {
            if (Array.isArray(target)) {
              const item: unknown = target.at(selector.index)
              if (item !== undefined) next.push(item)
            }
          } else {
            // Wildcards, slices and filters range over every child (a slice perhaps over fewer).
            for (const child of children(target)) {
              budget.chargeNodes(1)
              if (selector instanceof FilterSelector) chargeExpression(selector.expression, child, root, budget)
              next.push(child)
            }
          }
        }
      }
    }
    nodes = next
  }
}
