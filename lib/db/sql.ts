// The one way to run hand-written SQL: values travel as bound parameters (knex sends each `?`
// as $n with the values beside the text, never inside it, so no value can change the statement
// or reach a log line as SQL), and a statement run with a transactional EntityManager joins that
// transaction by itself. Use entities where the unit of work helps; this where one set-based
// statement does the job. A literal `?` (a jsonb operator) is written `\\?`.
import type { EntityManager } from '@mikro-orm/postgresql'

export async function sql<R = Record<string, unknown>> (em: EntityManager, text: string, params: readonly unknown[] = []): Promise<R[]> {
  const runner = em.getTransactionContext() ?? em.getKnex()
  const result = await runner.raw(text, params as unknown[]) as { rows: R[] }
  return result.rows
}

/**
 * Many JSON documents (texts already known to be JSON) as one jsonb parameter, for a batch
 * statement to read back in order with `jsonb_array_elements(?::jsonb) with ordinality`. As a
 * text[] they would cost more: node-postgres escapes every element of an array parameter in
 * JavaScript, two passes over each kilobyte of quotes, where this is one join.
 */
export function jsonDocuments (texts: readonly string[]): string {
  return `[${texts.join(',')}]`
}
