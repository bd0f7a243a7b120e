// Properties of the event validator (lib/events/field-schema.ts compileEventValidator), with
// fast-check over generated declarations and payloads: it never throws, a payload generated to fit
// its declaration passes, and every issue has a dot path, a message and a code of docs/api.md#validation-issues
// pointing at what was broken.
import t from 'tap'
import fc from 'fast-check'
import { checkFieldSpecs, compileEventValidator, type FieldSpec, type FieldSpecs } from '../../lib/events/field-schema.ts'

// LOOP_PROPERTY_RUNS=5000 npm test -- test/reliability/properties-*.test.ts searches deeper.
const runs = { numRuns: Number(process.env.LOOP_PROPERTY_RUNS ?? 300) }
const specCodes = ['required', 'invalid_type', 'invalid_string', 'invalid_enum_value', 'unrecognized_keys', 'too_small', 'too_big']

const fieldName = fc.oneof({ weight: 8, arbitrary: fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,15}$/) }, { weight: 1, arbitrary: fc.constantFrom('constructor', 'toString', 'valueOf', 'hasOwnProperty') })
const scalarTypes = ['uuid', 'datetime', 'email', 'url', 'string', 'number', 'integer', 'boolean'] as const

/** Field declarations as an integrator would write them, nested up to three levels. */
const fieldSpecs: fc.Arbitrary<FieldSpecs> = fc.letrec<{ fields: FieldSpecs, field: FieldSpec }>((tie) => ({
  field: fc.oneof(
    // Past three levels only scalars: declarations nest at most six deep.
    { depthSize: 'small', maxDepth: 3, depthIdentifier: 'field-spec', withCrossShrink: true },
    fc.record({ type: fc.constantFrom(...scalarTypes), required: fc.boolean() }),
    fc.record({ type: fc.constant('enum' as const), required: fc.boolean(), values: fc.uniqueArray(fc.string({ maxLength: 8 }), { minLength: 1, maxLength: 4 }) }),
    fc.record({ type: fc.constant('object' as const), required: fc.boolean(), fields: tie('fields') }, { requiredKeys: ['type', 'required'] }),
    fc.record({ type: fc.constant('array' as const), required: fc.boolean(), items: tie('field') }, { requiredKeys: ['type', 'required'] })
  ),
  fields: fc.uniqueArray(fc.tuple(fieldName, tie('field')), { minLength: 1, maxLength: 5, selector: ([name]) => name }).map((entries) => Object.fromEntries(entries))
})).fields

const email = fc.tuple(fc.stringMatching(/^[a-z0-9]{1,8}([._+-][a-z0-9]{1,8})?$/), fc.stringMatching(/^[a-z0-9]{1,10}$/), fc.constantFrom('com', 'dev', 'co.uk')).map(([local, domain, tld]) => `${local}@${domain}.${tld}`)

/** A value the declaration accepts. */
function valueFor (spec: FieldSpec): fc.Arbitrary<unknown> {
  switch (spec.type) {
    case 'uuid': return fc.uuid()
    case 'datetime': return fc.date({ min: new Date('1970-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z'), noInvalidDate: true }).map((d) => d.toISOString())
    case 'email': return email
    case 'url': return fc.webUrl({ validSchemes: ['http', 'https'] })
    case 'string': return fc.string({ unit: 'grapheme' })
    case 'number': return fc.double({ noNaN: true, noDefaultInfinity: true })
    case 'integer': return fc.integer()
    case 'boolean': return fc.boolean()
    case 'enum': return fc.constantFrom(...(spec.values ?? []))
    case 'object': return spec.fields === undefined ? fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 2 })) : payloadFor(spec.fields)
    case 'array': return fc.array(spec.items === undefined ? fc.jsonValue({ maxDepth: 2 }) : valueFor(spec.items), { maxLength: 3 })
  }
}

/** A payload for `fields`: required ones present, optional ones present, null or left out. */
function payloadFor (fields: FieldSpecs): fc.Arbitrary<Record<string, unknown>> {
  const entries = Object.entries(fields).map(([name, spec]) => {
    const value = valueFor(spec)
    const maybe = spec.required === true ? value.map((v) => [v]) : fc.oneof(value.map((v) => [v]), fc.constant([null]), fc.constant([]))
    return maybe.map((present) => (present.length === 0 ? [] : [[name, present[0]] as const]))
  })
  return fc.tuple(...entries).map((parts) => Object.fromEntries(parts.flat()))
}

const declarationAndPayload = fieldSpecs.chain((fields) => fc.tuple(fc.constant(fields), payloadFor(fields)))

function checkIssues (issues: unknown): void {
  if (!Array.isArray(issues)) throw new Error('issues is not an array')
  for (const issue of issues as Record<string, unknown>[]) {
    if (typeof issue.path !== 'string' || typeof issue.message !== 'string' || issue.message === '') throw new Error(`issue without path or message: ${JSON.stringify(issue)}`)
    if (!specCodes.includes(issue.code as string)) throw new Error(`code outside docs/api.md#validation-issues: ${JSON.stringify(issue)}`)
  }
}

t.test('generated declarations are valid ones, and compile', async (t) => {
  fc.assert(fc.property(fieldSpecs, (fields) => {
    const problems = checkFieldSpecs(fields)
    if (problems.length > 0) throw new Error(`generator made an invalid declaration: ${JSON.stringify(problems)}`)
    compileEventValidator(fields)
  }), runs)
  t.pass('declarations compile')
})

t.test('a payload generated to fit its declaration passes', async (t) => {
  fc.assert(fc.property(declarationAndPayload, ([fields, payload]) => {
    const issues = compileEventValidator(fields)(payload)
    if (issues.length > 0) throw new Error(`valid payload refused: ${JSON.stringify(issues)}`)
  }), runs)
  t.pass('valid payloads pass')
})

t.test('on any input the validator returns issues with a path, a message and a SPEC code, and never throws', async (t) => {
  const anyInput = fc.oneof(fc.anything({ maxDepth: 4, withNullPrototype: true, withMap: true, withSet: true, withBigInt: true, withDate: true, withTypedArray: true, withSparseArray: true }), fc.jsonValue({ maxDepth: 4 }))
  fc.assert(fc.property(fieldSpecs, anyInput, (fields, payload) => checkIssues(compileEventValidator(fields)(payload))), runs)
  fc.assert(fc.property(declarationAndPayload, fc.nat(), anyInput, ([fields, payload], at, replacement) => {
    const names = Object.keys(payload)
    if (names.length === 0) return
    checkIssues(compileEventValidator(fields)({ ...payload, [names[at % names.length] as string]: replacement }))
  }), runs)
  t.pass('issues are well-formed')
})

t.test('each way of breaking a valid payload is reported on the path that was broken', async (t) => {
  const wrongFor: Record<string, unknown> = { uuid: 42, datetime: 42, email: 42, url: 42, string: 42, number: 'x', integer: 1.5, boolean: 'true', enum: 42, object: 'x', array: {} }
  fc.assert(fc.property(declarationAndPayload, fc.nat(), ([fields, payload], at) => {
    const validate = compileEventValidator(fields)
    const names = Object.keys(fields)
    const name = names[at % names.length] as string
    const spec = fields[name] as FieldSpec
    const has = (issues: { path: string, code: string }[], path: string, codes: string[]) => issues.some((i) => i.path === path && codes.includes(i.code))

    const wrong = validate({ ...payload, [name]: wrongFor[spec.type] })
    if (!has(wrong, name, ['invalid_type', 'invalid_enum_value'])) throw new Error(`${spec.type} ${name} given ${JSON.stringify(wrongFor[spec.type])}: ${JSON.stringify(wrong)}`)

    if (spec.required === true) {
      const { [name]: _removed, ...without } = payload
      if (!has(validate(without), name, ['required'])) throw new Error(`missing ${name} not reported as required`)
    }

    const extra = `${name}_extra`
    if (!(extra in fields) && !has(validate({ ...payload, [extra]: 1 }), extra, ['unrecognized_keys'])) throw new Error(`unknown key ${extra} not reported`)
  }), runs)
  t.pass('breakages are reported where they are')
})
