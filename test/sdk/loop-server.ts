// A listening Loop for the SDK tests: the SDK talks real HTTP (fetch), not app.inject.
import type { FastifyInstance } from 'fastify'
import { authHeaders, buildWithDetails, operatorHeaders, type BuildTestOptions, type TestContext } from '../helper.ts'

export interface ListeningLoop {
  app: FastifyInstance
  baseUrl: string
  /** A fresh brand's key. */
  keyWith: (scopes: string[]) => Promise<string>
  /** A brandless (operator) key: provider signals and their issues are the operator's. */
  operatorKeyWith: (scopes: string[]) => Promise<string>
}

export async function listeningLoop (t: TestContext, env: Record<string, string> = {}, options: BuildTestOptions = {}): Promise<ListeningLoop> {
  const { app } = await buildWithDetails(t, env, undefined, options)
  await app.listen({ port: 0, host: '127.0.0.1' })
  const address = app.server.address()
  if (address === null || typeof address === 'string') throw new Error('not listening on TCP')
  return {
    app,
    baseUrl: `http://127.0.0.1:${address.port}`,
    keyWith: async (scopes) => ((await authHeaders(app, scopes, { tier: 'premium' })).authorization ?? '').slice('Bearer '.length),
    operatorKeyWith: async (scopes) => ((await operatorHeaders(app, scopes, { tier: 'premium' })).authorization ?? '').slice('Bearer '.length)
  }
}
