// @loop/contracts and @loop/sdk outside Node: each built package (dist/esm, as published) is
// bundled for the browser with every dependency, failing on any import of a Node built-in
// (node:crypto, Buffer's `buffer`, fs, …), and the bundle is run in a bare V8 context that has
// only the Web APIs a browser or a Worker has (no require, process or Buffer). The SDK's context
// also forbids code generation from strings, as Cloudflare Workers do.
import t from 'tap'
import { build } from 'esbuild'
import { builtinModules } from 'node:module'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import vm from 'node:vm'
import { Webhook } from 'standardwebhooks'
import * as contracts from '@loop/contracts'
import type * as Sdk from '@loop/sdk'
import { startReceiver } from '../receiver.ts'

const root = fileURLToPath(new URL('../..', import.meta.url))
const builtins = new Set(builtinModules)

/** The package's ESM build and all it imports as one browser script, and the Node built-ins it asked for. */
async function browserBundle (name: 'contracts' | 'sdk'): Promise<{ code: string, nodeImports: string[] }> {
  const nodeImports: string[] = []
  const result = await build({
    entryPoints: [join(root, 'packages', name, 'dist', 'esm', 'index.js')],
    bundle: true,
    write: false,
    platform: 'browser',
    format: 'iife',
    globalName: 'bundled',
    target: 'es2022',
    logLevel: 'silent',
    plugins: [{
      name: 'refuse-node-builtins',
      setup (build) {
        build.onResolve({ filter: /.*/ }, (args) => {
          const bare = args.path.replace(/^node:/, '').split('/')[0] as string
          if (!args.path.startsWith('node:') && !builtins.has(bare)) return undefined
          nodeImports.push(`${args.path} (imported by ${relative(root, args.importer)})`)
          return { path: args.path, external: true }
        })
      }
    }]
  })
  return { code: result.outputFiles[0]?.text ?? '', nodeImports }
}

function run<T> (code: string, globals: Record<string, unknown>, codeGeneration: boolean): T {
  const context = vm.createContext({ ...globals }, { codeGeneration: { strings: codeGeneration, wasm: false } })
  return vm.runInContext(`${code}\nbundled`, context) as T
}

const lead = { eventId: '550e8400-e29b-41d4-a716-446655440000', occurredAt: '2026-05-19T12:00:00Z', brandId: '7d0c5a4e-2f6b-4c1e-9a63-5f0f8f1f2b11', email: 'user@example.com', source: 'inbound_lead', attribution: {}, personId: null }

t.test('@loop/contracts imports nothing of Node and validates in a bare context as in Node', async (t) => {
  const { code, nodeImports } = await browserBundle('contracts')
  t.same(nodeImports, [], 'no Node built-in anywhere in the package or its dependencies')
  const bare = run<typeof contracts>(code, { console }, true)
  for (const payload of [lead, { ...lead, email: 'nope', extra: 1 }, {}, 'lead']) {
    t.same(JSON.parse(JSON.stringify(bare.validateEvent('lead.captured.v1', payload))), JSON.parse(JSON.stringify(contracts.validateEvent('lead.captured.v1', payload))))
  }
  t.same(JSON.parse(JSON.stringify(bare.eventTypes)), JSON.parse(JSON.stringify(contracts.eventTypes)))
})

t.test('@loop/contracts loads where code generation is forbidden (Workers); validateEvent then says why it cannot run', async (t) => {
  const { code } = await browserBundle('contracts')
  const silent = { ...console, error: () => {} }
  const workerLike = run<typeof contracts>(code, { console: silent }, false)
  t.same(Object.keys(workerLike).sort(), Object.keys(contracts).sort(), 'every export is there')
  t.throws(() => workerLike.validateEvent('lead.captured.v1', lead), { name: 'EvalError' })
})

t.test('@loop/sdk imports nothing of Node; verifyWebhook and the client run on Web APIs alone, without code generation', async (t) => {
  const { code, nodeImports } = await browserBundle('sdk')
  t.same(nodeImports, [], 'no Node built-in anywhere in the package or its dependencies')
  const web = { fetch, Request, Response, Headers, FormData, Blob, AbortController, AbortSignal, DOMException, URL, URLSearchParams, TextEncoder, TextDecoder, atob, btoa, crypto: globalThis.crypto, setTimeout, clearTimeout, console }
  const sdk = run<typeof Sdk>(code, web, false)

  const secret = 'whsec_' + Buffer.alloc(32, 3).toString('base64')
  const body = JSON.stringify({ id: 'msg_1', type: 'lead.captured.v1', createdAt: new Date().toISOString(), data: lead })
  const now = new Date()
  const headers = { 'webhook-id': 'msg_1', 'webhook-timestamp': String(Math.floor(now.getTime() / 1000)), 'webhook-signature': new Webhook(secret).sign('msg_1', now, body) }
  t.equal((await sdk.verifyWebhook(body, headers, secret)).id, 'msg_1')
  await t.rejects(sdk.verifyWebhook(body.replace('user@', 'evil@'), headers, secret), { code: 'invalid_signature' })

  const peer = await startReceiver(t, (request) => request.n === 1
    ? { status: 503, headers: { 'content-type': 'application/json' }, body: '{"ok":false,"error":{"code":"NOT_READY","message":"starting"}}' }
    : { status: 200, headers: { 'content-type': 'application/json' }, body: '{"ok":true}' })
  const loop = sdk.createClient({ baseUrl: new URL(peer.url).origin, apiKey: 'lk_test_' + 'b'.repeat(40), retryDelaysMs: [10] })
  const posted = await loop.POST('/api/issues', { body: { title: 'From a Worker', type: 'task' } })
  t.equal(posted.response.status, 200, 'retried once after the 503')
  t.equal(peer.requests.length, 2)
  t.match(peer.requests[1]?.headers['idempotency-key'], /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/, 'a v4 UUID from getRandomValues')
  t.equal(peer.requests[1]?.headers['idempotency-key'], peer.requests[0]?.headers['idempotency-key'])
})
