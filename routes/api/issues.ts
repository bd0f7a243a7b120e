// /api/issues (docs/signals.md#issues): list, read, create, update and the agents' claim loop, each over
// the caller's own issues (docs/tenancy.md). Scopes are declared per operation in
// openapi/loop.yaml (issues:read, issues:write) and enforced by auth.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import * as ops from '../../generated/operations.ts'
import type { IssuePriority } from '../../lib/db/entities/issue.ts'
import { claimNextIssue } from '../../lib/issues/claim-next-issue.ts'
import { createIssue } from '../../lib/issues/create-issue.ts'
import { getIssue } from '../../lib/issues/get-issue.ts'
import { toIssueResource } from '../../lib/issues/issue-resource.ts'
import { listIssues } from '../../lib/issues/list-issues.ts'
import { updateIssue } from '../../lib/issues/update-issue.ts'
import { toSignalResource } from '../../lib/signals/signal-resource.ts'

const issues: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.route({
    ...ops.listIssues,
    handler: async (request) => {
      const { priority, limit, iterator, ...filters } = request.query
      // The schema admits only 1–4, which is what IssuePriority names.
      return await listIssues(request.em, request.caller, { ...filters, priority: priority as IssuePriority[] | undefined }, { limit, iterator })
    }
  })

  fastify.route({
    ...ops.getIssue,
    handler: async (request) => {
      const { issue, signal } = await getIssue(request.em, request.caller, request.params.id)
      return { ...toIssueResource(issue), signal: signal === null ? null : toSignalResource(signal, issue.id, { payload: true }) }
    }
  })

  fastify.route({
    ...ops.createIssue,
    handler: async (request, reply) => {
      const issue = await createIssue(request.em, request.caller, request.body)
      return await reply.code(201).send(toIssueResource(issue))
    }
  })

  fastify.route({
    ...ops.updateIssue,
    handler: async (request) => {
      const issue = await updateIssue(request.em, request.caller, request.params.id, request.body)
      return toIssueResource(issue)
    }
  })

  fastify.route({
    ...ops.claimIssue,
    handler: async (request, reply) => {
      const issue = await claimNextIssue(request.em, request.caller, request.body.agent, request.body.types)
      if (issue === null) return await reply.code(204).send(null)
      return toIssueResource(issue)
    }
  })
}

export default issues
