// Maps Ajv errors to the SPEC's issue list: one issue per failure, dot paths into the validated
// object, codes from docs/api.md#validation-issues. Shared by Fastify's request validation and the event validator.
import type { ErrorObject } from 'ajv'
import type { ValidationIssue } from '../errors.ts'

const stringFormats: Record<string, string> = {
  email: 'Invalid email',
  uuid: 'Invalid uuid',
  'date-time': 'Invalid datetime',
  uri: 'Invalid url',
  url: 'Invalid url'
}

/** `/items/0/sku` → `items.0.sku` (JSON Pointer unescaped). */
export function pointerToPath (pointer: string): string {
  if (pointer === '') return ''
  return pointer.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~')).join('.')
}

const join = (base: string, key: string) => (base === '' ? key : `${base}.${key}`)

export function issueFromAjv (error: ErrorObject): ValidationIssue | null {
  const path = pointerToPath(error.instancePath)
  const params = error.params as Record<string, unknown>
  switch (error.keyword) {
    case 'required':
      return { path: join(path, String(params.missingProperty)), message: 'Required', code: 'required' }
    case 'additionalProperties':
      return { path: join(path, String(params.additionalProperty)), message: `Unrecognized key '${String(params.additionalProperty)}'`, code: 'unrecognized_keys' }
    case 'type':
      return { path, message: `Expected ${String(params.type).split(',').join(' or ')}`, code: 'invalid_type' }
    case 'format':
      return { path, message: stringFormats[String(params.format)] ?? `Invalid ${String(params.format)}`, code: 'invalid_string' }
    case 'pattern':
      return { path, message: `Must match ${String(params.pattern)}`, code: 'invalid_string' }
    case 'enum':
      return { path, message: `Invalid enum value. Expected ${(params.allowedValues as unknown[]).map((v) => `'${String(v)}'`).join(' | ')}`, code: 'invalid_enum_value' }
    case 'const':
      return { path, message: `Expected ${JSON.stringify(params.allowedValue)}`, code: 'invalid_enum_value' }
    case 'minLength': case 'minimum': case 'exclusiveMinimum': case 'minItems': case 'minProperties':
      return { path, message: error.message ?? 'Too small', code: 'too_small' }
    case 'maxLength': case 'maximum': case 'exclusiveMaximum': case 'maxItems': case 'maxProperties':
      return { path, message: error.message ?? 'Too big', code: 'too_big' }
    case 'if': case 'anyOf': case 'oneOf':
      // Their sub-errors are reported on their own; the umbrella adds nothing a caller can act on.
      return null
    default:
      return { path, message: error.message ?? 'Invalid value', code: 'custom' }
  }
}

export function issuesFromAjv (errors: readonly ErrorObject[] | null | undefined): ValidationIssue[] {
  const out: ValidationIssue[] = []
  const seen = new Set<string>()
  for (const error of errors ?? []) {
    const issue = issueFromAjv(error)
    if (issue === null) continue
    const key = `${issue.code}\u0000${issue.path}`
    if (seen.has(key)) continue
    seen.add(key)
    out.push(issue)
  }
  return out
}
