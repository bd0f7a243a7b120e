// Is this error the database out of reach (docs/api.md#errors)? Then the request answers 503
// NOT_READY with Retry-After, which clients and the SDK retry, instead of a 500 that looks like a
// bug. Only errors raised while getting a connection count: a refused or unresolvable address, a
// pool that found no connection within its acquire timeout (a host that drops packets), a server
// that is starting, stopping or full. No statement ran on a connection that never came; an error
// on a connection that was working (it dropped mid-query, a commit whose fate is unknown) stays 500.

/** Socket calls that fail only while connecting. */
const connectSyscalls = new Set(['connect', 'getaddrinfo'])
/** SQLSTATEs PostgreSQL sends instead of accepting a connection: cannot_connect_now, too_many_connections. */
const refusedStates = new Set(['57P03', '53300'])
/** knex's message when the pool's acquire timeout passes (MikroORM rewraps the error and drops its name). */
const acquireTimeout = 'Knex: Timeout acquiring a connection'

export function databaseUnreachable (error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false
  const e = error as { syscall?: unknown, code?: unknown, sqlState?: unknown, name?: unknown, message?: unknown }
  if (typeof e.syscall === 'string' && connectSyscalls.has(e.syscall)) return true
  if (refusedStates.has(String(e.sqlState ?? e.code ?? ''))) return true
  return e.name === 'KnexTimeoutError' || (typeof e.message === 'string' && e.message.startsWith(acquireTimeout))
}
