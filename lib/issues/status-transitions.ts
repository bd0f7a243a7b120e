// The issue workflow (docs/signals.md#issue-workflow): which status may follow which. Anything else is a 409
// naming both states. Setting the status an issue already has is not a transition and is allowed.
import { conflict } from '../errors.ts'
import type { IssueStatus } from '../db/entities/issue.ts'

export const allowedTransitions: Record<IssueStatus, readonly IssueStatus[]> = {
  triage: ['todo', 'in_progress', 'done', 'canceled'],
  todo: ['triage', 'in_progress', 'done', 'canceled'],
  // Back to todo hands the issue back to the queue; to triage would skip a human's decision.
  in_progress: ['todo', 'done', 'canceled'],
  // Reopening goes through todo; a done issue is never directly "in progress" again.
  done: ['todo'],
  canceled: ['triage', 'todo']
}

export function canTransition (from: IssueStatus, to: IssueStatus): boolean {
  return from === to || allowedTransitions[from].includes(to)
}

export function assertTransition (issueNumber: number, from: IssueStatus, to: IssueStatus): void {
  if (canTransition(from, to)) return
  throw conflict(`Issue #${issueNumber} cannot move from ${from} to ${to} (from ${from}: ${allowedTransitions[from].join(', ')})`)
}

/** Triage and todo are the claimable queue: an issue entering it is nobody's any more. */
export function releasesClaim (to: IssueStatus): boolean {
  return to === 'triage' || to === 'todo'
}
