// The test-mode hook over a real app: a response the contract does not declare is reported as a
// JSON line (test/run.ts then fails the run); a declared one, or a route outside the contract, is not.
import t from 'tap'
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { getHealth } from '../../generated/operations.ts'
import type { ContractViolation } from '../../plugins/response-contract.ts'
import { buildWithDetails, operatorHeaders } from '../helper.ts'

// Its own directory: these violations are on purpose and must not fail the suite's run.
const directory = await mkdtemp(join(tmpdir(), 'loop-contract-test-'))
t.teardown(async () => { await rm(directory, { recursive: true, force: true }) })

const { app } = await buildWithDetails(t, {}, (app) => {
  // Routes that claim to be contract operations and answer what the contract does not say.
  app.get('/test/teapot', { schema: { operationId: getHealth.schema.operationId } }, async (_request, reply) => reply.code(418).send({ ok: false }))
  app.get('/test/wrong-body', { schema: { operationId: getHealth.schema.operationId } }, async () => ({ ok: true, status: 'resting', uptimeSeconds: 1 }))
  app.get('/test/outside', async () => ({ anything: true }))
}, { contractViolations: directory })

async function reported (): Promise<ContractViolation[]> {
  const files = await readdir(directory)
  const lines = (await Promise.all(files.map(async (name) => await readFile(join(directory, name), 'utf8')))).join('').split('\n')
  return lines.filter((line) => line !== '').map((line) => JSON.parse(line) as ContractViolation)
}

t.test('declared answers report nothing: a 200, a 401 envelope, a 304, an unknown route, the docs', async (t) => {
  const key = await operatorHeaders(app, ['issues:read'])
  t.equal((await app.inject({ method: 'GET', url: '/health' })).statusCode, 200)
  t.equal((await app.inject({ method: 'GET', url: '/api/issues' })).statusCode, 401)
  const first = await app.inject({ method: 'GET', url: '/api/events/schemas', headers: key })
  t.equal((await app.inject({ method: 'GET', url: '/api/events/schemas', headers: { ...key, 'if-none-match': String(first.headers.etag) } })).statusCode, 304)
  t.equal((await app.inject({ method: 'GET', url: '/mcp' })).statusCode, 405)
  t.equal((await app.inject({ method: 'GET', url: '/api/nothing' })).statusCode, 404)
  t.equal((await app.inject({ method: 'GET', url: '/openapi.json' })).statusCode, 200)
  t.equal((await app.inject({ method: 'GET', url: '/test/outside' })).statusCode, 200)
  t.same(await reported(), [])
})

t.test('an undeclared status and a body off its schema are each reported once, with the operation', async (t) => {
  await app.inject({ method: 'GET', url: '/test/teapot' })
  await app.inject({ method: 'GET', url: '/test/wrong-body?x=1' })
  const violations = await reported()
  t.match(violations, [
    { operationId: 'getHealth', method: 'GET', path: '/test/teapot', status: 418, problems: ['status 418 is not declared'], file: 'test/plugins/response-contract.test.ts' },
    { operationId: 'getHealth', method: 'GET', path: '/test/wrong-body', status: 200, problems: [/^200 body\/status must be equal to constant$/] }
  ])
  t.equal(violations.length, 2)
})
