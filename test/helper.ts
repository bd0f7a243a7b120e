// Builds the whole Loop app on its own fresh database for a test, and closes it afterwards.
import type { FastifyInstance } from 'fastify'
import { buildApp, type BuildOptions } from '../app.ts'
import { loadConfig, type Config } from '../lib/config.ts'
import { createTestDatabase } from './database.ts'

export interface TestContext {
  teardown: (fn: () => unknown) => void
}

export const testSecrets = {
  GITHUB_WEBHOOK_SECRET: 'test-github-secret',
  SENTRY_CLIENT_SECRET: 'test-sentry-secret',
  POSTHOG_WEBHOOK_SECRET: 'test-posthog-secret'
}

export interface TestApp {
  app: FastifyInstance
  config: Config
  databaseUrl: string
}

/** A Loop on a fresh database; `env` overrides the test defaults (LOG_LEVEL silent, test secrets). */
export async function build (t: TestContext, env: Record<string, string | undefined> = {}, extend?: (app: FastifyInstance) => void): Promise<FastifyInstance> {
  return (await buildWithDetails(t, env, extend)).app
}

export interface BuildTestOptions {
  /** Build on this (another test app's) database instead of a fresh one; its owner drops it. */
  databaseUrl?: string
  /** The delivery worker: on unless false, as in production; options tune its polling. */
  deliveryWorker?: BuildOptions['deliveryWorker']
}

/**
 * Like build, and also returns the config and database URL; `extend` may add test-only routes
 * before ready; `options.databaseUrl` builds a second instance on the same database.
 */
export async function buildWithDetails (t: TestContext, env: Record<string, string | undefined> = {}, extend?: (app: FastifyInstance) => void, options: BuildTestOptions = {}): Promise<TestApp> {
  const database = options.databaseUrl === undefined ? await createTestDatabase() : { url: options.databaseUrl, drop: async () => {} }
  const config = loadConfig({ LOG_LEVEL: 'silent', ...testSecrets, ...env, DATABASE_URL: database.url })
  const app = await buildApp(config, { deliveryWorker: options.deliveryWorker })
  extend?.(app)
  await app.ready()
  t.teardown(async () => {
    await app.close()
    await database.drop()
  })
  return { app, config, databaseUrl: database.url }
}

/** A tap `match` pattern for the SPEC error envelope with the given code. */
export function envelope (code: string): { ok: false, error: { code: string, message: StringConstructor } } {
  return { ok: false, error: { code, message: String } }
}

export type KeyEnv = 'live' | 'test' | 'dev'
export type KeyTier = 'standard' | 'premium'

/**
 * Headers that authenticate as a fresh API key with `scopes`. This is the one seam tests use to
 * call protected routes: until API keys exist (issue 4) the routes are open and it returns no
 * headers; the auth work gives it a real body, and every test calling it then runs with real keys.
 */
export async function authHeaders (_app: FastifyInstance, _scopes: string[], _options: { env?: KeyEnv, tier?: KeyTier } = {}): Promise<Record<string, string>> {
  return {}
}
