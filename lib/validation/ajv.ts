// Ajv instances built one way for the whole app: every error reported (allErrors), formats from
// ajv-formats, OpenAPI's extra keywords tolerated. Schemas compile once, at start-up.
// No Node-only import: @loop/contracts bundles this file for browsers and edge runtimes.
import { Ajv, type Options } from 'ajv'
import ajvFormats from 'ajv-formats'

// ajv-formats is CommonJS whose typings declare an ES default export. Node's ESM loader and
// bundlers disagree on what the default import is (module.exports or its `default`), but the
// module sets `module.exports.default = module.exports`, so `.default` is the plugin either way.
const addFormats = (ajvFormats as unknown as { default: (ajv: Ajv) => Ajv }).default

export function createAjv (options: Options = {}): Ajv {
  const ajv = new Ajv({ allErrors: true, strict: false, useDefaults: true, ...options })
  addFormats(ajv)
  return ajv
}
