// Ajv instances built one way for the whole app: every error reported (allErrors), formats from
// ajv-formats, OpenAPI's extra keywords tolerated. Schemas compile once, at start-up.
import { createRequire } from 'node:module'
import { Ajv, type Options } from 'ajv'

// ajv-formats is CommonJS whose typings declare an ES default export; require() gives the function.
const addFormats = createRequire(import.meta.url)('ajv-formats') as (ajv: Ajv) => Ajv

export function createAjv (options: Options = {}): Ajv {
  const ajv = new Ajv({ allErrors: true, strict: false, useDefaults: true, ...options })
  addFormats(ajv)
  return ajv
}
