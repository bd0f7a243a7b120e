import t from 'tap'
import { derefIn, loadContract, type JsonSchema } from '../../../lib/contract/openapi.ts'
import { responseChecker, type SentResponse } from '../../../lib/contract/response-check.ts'

const envelope = JSON.stringify({ ok: false, error: { code: 'NOT_FOUND', message: 'Issue x not found' } })
const json = { 'content-type': 'application/json; charset=utf-8' }
const sent = (status: number, body: string | null, headers: Record<string, unknown> = json, method = 'GET'): SentResponse => ({ method, status, headers, body })

t.test('over the live contract', async (t) => {
  const check = responseChecker(await loadContract()).check
  const limited = { ...json, 'x-ratelimit-limit': '100', 'x-ratelimit-remaining': '199', 'x-ratelimit-reset': '1795600000' }
  t.same(check('getIssue', sent(404, envelope, limited)), [], 'a declared error with its headers')
  t.same(check('getIssue', sent(304, '', { etag: '"abc"', ...limited })), [], 'a 304 with its ETag')
  t.same(check('getIssue', sent(418, envelope)), ['status 418 is not declared'])
  t.same(check('getIssue', sent(404, envelope, { ...json, 'x-request-cost': '1' })), ['header x-request-cost is not declared for 404'])
  t.same(check('getIssue', sent(401, envelope, { ...json, 'retry-after': '3' })), ['header retry-after is not declared for 401'])
  t.match(check('getIssue', sent(404, JSON.stringify({ ok: false, error: { message: 'no code' } }))), [/^404 body\/error must have required property 'code'$/])
  t.same(check('getIssue', sent(404, '<h1>Not found</h1>', { 'content-type': 'text/html' })), ['404 declares application/json, not text/html'])
  t.same(check('getIssue', sent(404, '{bad', json)), ['404 body is not JSON'])
  t.same(check('getIssue', sent(404, envelope, limited, 'HEAD')), [], 'HEAD: no body is checked')
  t.same(check('nosuchOperation', sent(200, '{}')), ['operation nosuchOperation is not in the contract'])
  t.same(check('openMcpStream', sent(405, JSON.stringify({ ok: false, error: { code: 'METHOD_NOT_ALLOWED', message: 'Use POST /mcp' } }), { ...json, allow: 'POST' })), [])
  t.same(check('mcp', sent(200, null, { ...limited, 'content-type': 'application/json' }, 'POST')), [], 'a hijacked reply: status and headers only')
  t.same(check('getHealth', sent(200, '', json)), ['200 declares a body but none was sent'])
})

t.test('over a doctored contract: bodiless statuses, required headers, status ranges', async (t) => {
  const document: JsonSchema = {
    paths: {
      '/x': {
        post: {
          operationId: 'x',
          responses: {
            201: { description: 'created', headers: { Location: { required: true, schema: { type: 'string' } } } },
            204: { description: 'nothing' },
            '4XX': { $ref: '#/components/responses/Problem' }
          }
        }
      }
    },
    components: { responses: { Problem: { description: 'a problem', content: { 'application/json': { schema: { type: 'object', required: ['ok'] } } } } } }
  }
  const check = responseChecker({ document, deref: derefIn(document) }).check
  t.same(check('x', sent(201, '', { location: '/x/1' }, 'POST')), [])
  t.same(check('x', sent(201, '', {}, 'POST')), ['required header location is missing from 201'])
  t.same(check('x', sent(201, '{"id":1}', { ...json, location: '/x/1' }, 'POST')), ['201 declares no body but one was sent (application/json)'])
  t.same(check('x', sent(204, 'null', {}, 'POST')), [], 'Node sends no body with a 204, whatever the handler gave')
  t.same(check('x', sent(409, '{"ok":false}', json, 'POST')), [], '4XX covers 409')
  t.same(check('x', sent(500, '{"ok":false}', json, 'POST')), ['status 500 is not declared'])
})
