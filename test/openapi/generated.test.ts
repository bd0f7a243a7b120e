import t from 'tap'
import * as ops from '../../generated/operations.ts'
import { componentSchemas } from '../../generated/schemas.ts'
import { loadContract, validationSchema, type JsonSchema } from '../../lib/contract/openapi.ts'

const { document, deref } = await loadContract()
const components = (document.components as { schemas: Record<string, JsonSchema> }).schemas

t.test('generated/schemas.ts holds every component of the contract once, under its name', async (t) => {
  t.same(componentSchemas.map((schema) => schema.$id), Object.keys(components))
})

t.test('no operation carries a copy of a component: each points at it with $ref', async (t) => {
  const copies: string[] = []
  for (const [name, component] of Object.entries(components)) {
    if (component.type !== 'object') continue
    const inlined = JSON.stringify(validationSchema(component, deref))
    for (const op of Object.values(ops)) {
      if (JSON.stringify(op.schema).includes(inlined)) copies.push(`${op.schema.operationId} inlines ${name}`)
    }
  }
  t.same(copies, [])
  t.match(ops.getIssue.schema.response[404], { $ref: 'Error#' })
})
