// Log options shared by the server and the CLI. Secrets never reach a log line: every header or
// field that can carry a key, a signature or a secret is redacted wherever it appears.
import type { FastifyLoggerOptions } from 'fastify'
import type { Config } from './config.ts'

export const secretHeaders = [
  'authorization',
  'cookie',
  'x-hub-signature',
  'x-hub-signature-256',
  'sentry-hook-signature',
  'x-posthog-secret',
  'x-shopify-hmac-sha256',
  'webhook-signature',
  'typeform-signature',
  'calendly-webhook-signature',
  'x-loop-signature',
  'x-loop-signature-previous',
  'idempotency-key'
]

export const redactPaths = [
  ...secretHeaders.flatMap((h) => [`req.headers["${h}"]`, `headers["${h}"]`, `request.headers["${h}"]`]),
  'secret', '*.secret', 'apiKey', '*.apiKey', 'key', '*.key', 'password', '*.password', 'adminKey', '*.adminKey'
]

export function loggerOptions (config: Pick<Config, 'logLevel'>): FastifyLoggerOptions & { redact: { paths: string[], censor: string } } {
  return {
    level: config.logLevel,
    redact: { paths: redactPaths, censor: '[redacted]' }
  }
}
