// Every list's pages, one way (docs/api.md#lists): `{data, iterator, prevIterator, done}`, keyset
// pagination over a total order, and one opaque iterator codec. An iterator names its list and a
// digest of the filters it was made under, so one list's iterator, or one made under other
// filters, is a 422 instead of a wrong page. Owners are not in the iterator: every query already
// puts the caller's owner in its `where`, so a doctored iterator still only pages the caller's rows.
import { createHash } from 'node:crypto'
import { ReferenceKind, type EntityManager, type EntityMetadata, type EntityName, type FilterQuery } from '@mikro-orm/postgresql'
import { validationError } from '../errors.ts'
import { sql } from '../db/sql.ts'

export interface Page<T> {
  data: T[]
  /** Pass back as `iterator` for the next page; null when `done`. */
  iterator: string | null
  /** Pass back as `iterator` for the page before this one; null on the first page. */
  prevIterator: string | null
  done: boolean
}

export interface PageRequest { limit?: number | undefined, iterator?: string | undefined }

export const defaultLimit = 50

/**
 * A condition the ORM's filters cannot say (a cast, an operator of its own), ANDed into a page's
 * statement: `sql` names a field's column with `column`, and its values travel as bound
 * parameters like every other. The text must not depend on the values: it is part of the shape.
 */
export interface RawCondition {
  sql: (column: (field: string) => string) => string
  params: readonly unknown[]
}

/** The most request shapes whose statements one list keeps. */
const maxShapes = 500

type KeyValue = string | number
type KeyKind = 'int' | 'text' | 'date' | 'uuid'

/** One column of a list's order; the last one must make the order total (an id). */
export interface OrderColumn<Row> {
  field: keyof Row & string
  dir: 'asc' | 'desc'
  kind: KeyKind
}

interface Position { list: string, filters: string, forward: boolean, key: KeyValue[] }

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

function digest (filters: Record<string, unknown>): string {
  const canonical = Object.keys(filters).sort().filter((k) => filters[k] !== undefined).map((k) => {
    const value = filters[k]
    return [k, Array.isArray(value) ? [...value].map(String).sort() : value]
  })
  return createHash('sha256').update(JSON.stringify(canonical)).digest('base64url').slice(0, 16)
}

function invalidIterator (): never {
  const message = 'Invalid iterator: pass the iterator or prevIterator of a page of this list, with the same filters'
  throw validationError([{ path: 'iterator', message, code: 'invalid_string' }], `querystring.iterator: ${message}`)
}

/**
 * A list's pager: its name, its order, and how a row's sort key is read. `page()` turns rows
 * fetched with `after()`'s condition (limit + 1 of them, in `orderBy()`'s order) into the envelope.
 */
export class Pager<Row extends object> {
  readonly list: string
  readonly order: readonly OrderColumn<Row>[]

  constructor (list: string, order: readonly OrderColumn<Row>[]) {
    // One direction throughout, so a position is one row comparison (see `after`).
    if (!order.every((column) => column.dir === order[0]?.dir)) throw new Error(`list ${list}: every column of its order must run the same way`)
    this.list = list
    this.order = order
  }

  /** Where a request starts: its direction and the sort key it continues from (null: the first page). */
  position (request: PageRequest, filters: Record<string, unknown>): Position | null {
    if (request.iterator === undefined) return null
    let decoded: unknown = null
    try {
      decoded = JSON.parse(Buffer.from(request.iterator, 'base64url').toString('utf8'))
    } catch {
      // Not JSON: reported below like any other foreign iterator.
    }
    if (!Array.isArray(decoded) || decoded.length !== 4) invalidIterator()
    const [list, filterDigest, direction, key] = decoded as unknown[]
    if (list !== this.list || filterDigest !== digest(filters) || (direction !== 'n' && direction !== 'p')) invalidIterator()
    if (!Array.isArray(key) || key.length !== this.order.length || !key.every((v, i) => this.valid(this.order[i]!.kind, v))) invalidIterator()
    return { list, filters: filterDigest, forward: direction === 'n', key: key as KeyValue[] }
  }

  private valid (kind: KeyKind, value: unknown): boolean {
    switch (kind) {
      case 'int': return Number.isSafeInteger(value)
      case 'date': return typeof value === 'number' && Number.isSafeInteger(value) && !Number.isNaN(new Date(value).getTime())
      case 'uuid': return typeof value === 'string' && uuid.test(value)
      case 'text': return typeof value === 'string' && value.length <= 500
    }
  }

  private encode (filters: Record<string, unknown>, forward: boolean, row: Row): string {
    const key = this.order.map(({ field, kind }) => {
      const value = row[field] as unknown
      return kind === 'date' ? (value as Date).getTime() : value as KeyValue
    })
    return Buffer.from(JSON.stringify([this.list, digest(filters), forward ? 'n' : 'p', key]), 'utf8').toString('base64url')
  }

  private value (index: number, key: KeyValue[]): unknown {
    const v = key[index]
    return this.order[index]!.kind === 'date' ? new Date(v as number) : v
  }

  /**
   * "Strictly after the position" (before it, paging back) as one row comparison over the order's
   * columns, `(a, b) > (?, ?)`: PostgreSQL takes it as a bound of the index scan in that order,
   * so a later page costs what the first does. `column` names a field's column in the statement.
   */
  after (position: Position, column: (field: string) => string): { sql: string, params: unknown[] } {
    const ascending = (this.order[0]!.dir === 'asc') === position.forward
    return {
      sql: `(${this.order.map(({ field }) => column(field)).join(', ')}) ${ascending ? '>' : '<'} (${this.order.map(() => '?').join(', ')})`,
      params: this.order.map((_, i) => this.value(i, position.key))
    }
  }

  orderBy (position: Position | null): Record<string, 'asc' | 'desc'>[] {
    const forward = position?.forward ?? true
    return this.order.map(({ field, dir }) => ({ [field]: forward ? dir : (dir === 'asc' ? 'desc' : 'asc') }))
  }

  /** The envelope for `rows` (up to limit + 1, fetched in `orderBy(position)`'s order). */
  page<T> (rows: Row[], position: Position | null, limit: number, filters: Record<string, unknown>, view: (row: Row) => T): Page<T> {
    const more = rows.length > limit
    const taken = rows.slice(0, limit)
    const forward = position?.forward ?? true
    const ordered = forward ? taken : taken.reverse()
    const first = ordered.at(0)
    const last = ordered.at(-1)
    // `more` is about the direction of travel: paging forward, whether a next page exists; paging
    // back, whether an earlier one does. The other way there is always the page we came from.
    const done = forward ? !more : last === undefined
    const earlier = forward ? position !== null : more
    return {
      data: ordered.map(view),
      iterator: done || last === undefined ? null : this.encode(filters, true, last),
      prevIterator: !earlier || first === undefined ? null : this.encode(filters, false, first),
      done
    }
  }

  /**
   * One page of an entity: the caller's condition, the position, the order. The ORM's query
   * builder writes the statement from the entity's metadata; it runs through lib/db/sql.ts with
   * its values bound, and its rows come back as plain objects of the entity's properties (a
   * relation as its id), not managed entities: a page is read once and serialised, so building
   * entities and registering them in a unit of work would be work for nothing. The statement is
   * written once per shape of request (see `statementFor`), not once per request.
   */
  async find<T> (em: EntityManager, entity: EntityName<Row>, where: FilterQuery<Row>, request: PageRequest, filters: Record<string, unknown>, view: (row: Row) => T, condition?: RawCondition): Promise<Page<T>> {
    const limit = request.limit ?? defaultLimit
    const position = this.position(request, filters)
    const values: unknown[] = []
    const shape = shapeOf(where, values)
    const conditionText = condition?.sql((field) => `<${field}>`)
    if (condition !== undefined) values.push(...condition.params)
    const key = `${position === null ? 'first' : position.forward ? 'next' : 'back'} ${shape}${conditionText === undefined ? '' : ` and ${conditionText}`}`
    if (position !== null) values.push(...this.order.map((_, i) => this.value(i, position.key)))
    values.push(limit + 1)
    let statement = this.statements.get(key)
    if (statement === undefined) {
      statement = this.statementFor(em, entity, where, position, condition)
      // A list has a handful of shapes; list filters of every length could make more, and those
      // past the bound are written per request rather than kept.
      if (this.statements.size < maxShapes) this.statements.set(key, statement)
    }
    const { sql: text, bindings, meta } = statement.slots === null
      ? this.build(em, entity, where, position, limit, condition)
      : { ...statement, bindings: statement.slots.map((slot) => typeof slot === 'number' ? values[slot] : slot.constant) }
    const driver = em.getDriver()
    const rows = (await sql(em, text, bindings)).map((row) => driver.mapResult(row as never, meta) as unknown as Row)
    return this.page(rows, position, limit, filters, view)
  }

  /** Statements by request shape: which filters, which owner columns, which direction. */
  private readonly statements = new Map<string, Statement>()

  private build (em: EntityManager, entity: EntityName<Row>, where: FilterQuery<Row>, position: Position | null, limit: number, condition?: RawCondition): { sql: string, bindings: readonly unknown[], meta: EntityMetadata } {
    const qb = em.createQueryBuilder(entity)
    const meta = qb.mainAlias.metadata as EntityMetadata
    const column = (field: string) => `${qb.alias}.${meta.properties[field as never]!.fieldNames[0]!}`
    qb.select(listedFields(meta)).where(where as never).orderBy(this.orderBy(position) as never).limit(limit + 1)
    if (condition !== undefined) qb.andWhere(condition.sql(column), [...condition.params])
    if (position !== null) {
      const after = this.after(position, column)
      qb.andWhere(after.sql, after.params)
    }
    const { sql, bindings } = qb.getKnexQuery().toSQL()
    return { sql, bindings, meta }
  }

  /**
   * The statement for requests of this one's shape, and where each of its bindings comes from:
   * it is written once with a distinct stand-in for every value (the condition's, the
   * position's, the limit), and each binding is traced back to its stand-in. When a value does not
   * come back as a binding (the builder turned it into SQL text or converted it), the shape is
   * not cached and every request writes its own statement, as before.
   */
  private statementFor (em: EntityManager, entity: EntityName<Row>, where: FilterQuery<Row>, position: Position | null, condition?: RawCondition): Statement {
    const standIns: unknown[] = []
    const standIn = (value: unknown): unknown => {
      const n = standIns.length
      const made = value instanceof Date ? new Date(Date.UTC(2999, 0, 1) + n) : typeof value === 'number' ? 987_654_321_000 + n : `~loop stand-in ${n}~`
      standIns.push(made)
      return made
    }
    const template = withValues(where, standIn) as FilterQuery<Row>
    const templateCondition = condition === undefined ? undefined : { sql: condition.sql, params: condition.params.map(standIn) }
    const templatePosition = position === null ? null : { ...position, key: this.order.map((column, i) => { const v = standIn(this.value(i, position.key)); return v instanceof Date ? v.getTime() : v as KeyValue }) }
    const limitStandIn = standIn(0) as number
    let built: ReturnType<Pager<Row>['build']>
    try {
      built = this.build(em, entity, template, templatePosition, limitStandIn - 1, templateCondition)
    } catch {
      return { sql: '', slots: null, meta: null }
    }
    const same = (a: unknown, b: unknown) => a instanceof Date && b instanceof Date ? a.getTime() === b.getTime() : a === b
    // A boolean or null is part of the shape (see shapeOf), so the same in every request of it.
    const slots = built.bindings.map((binding): Slot => typeof binding === 'boolean' || binding === null ? { constant: binding } : standIns.findIndex((made) => same(made, binding)))
    const used = slots.filter((slot): slot is number => typeof slot === 'number')
    const leaked = /~loop stand-in|2999-01-01|98765432100/.test(built.sql)
    const traced = !leaked && used.every((slot) => slot >= 0) && new Set(used).size === standIns.length
    return traced ? { sql: built.sql, slots, meta: built.meta } : { sql: '', slots: null, meta: null }
  }
}

/**
 * A condition's shape (its keys, operators, nulls, booleans and list lengths, not its values),
 * pushing its values onto `values` in the order `withValues` visits them.
 */
function shapeOf (where: unknown, values: unknown[]): string {
  if (isValue(where)) { values.push(where); return where instanceof Date ? 'd' : typeof where === 'number' ? 'n' : 's' }
  if (where === null || typeof where === 'boolean' || where === undefined) return String(where)
  if (Array.isArray(where)) return `[${where.map((item) => shapeOf(item, values)).join(',')}]`
  return `{${Object.entries(where as Record<string, unknown>).map(([k, v]) => `${JSON.stringify(k)}:${shapeOf(v, values)}`).join(',')}}`
}

/** The condition with each value replaced by `replace(value)`, visited in `shapeOf`'s order. */
function withValues (where: unknown, replace: (value: unknown) => unknown): unknown {
  if (isValue(where)) return replace(where)
  if (where === null || typeof where !== 'object') return where
  if (Array.isArray(where)) return where.map((item) => withValues(item, replace))
  return Object.fromEntries(Object.entries(where as Record<string, unknown>).map(([k, v]) => [k, withValues(v, replace)]))
}

const isValue = (v: unknown): boolean => typeof v === 'string' || typeof v === 'number' || v instanceof Date

/** A list's statement for one shape of request, and which value each of its bindings is; null slots: not cacheable. */
type Statement = { sql: string, slots: Slot[], meta: EntityMetadata } | { sql: string, slots: null, meta: null }
/** A binding's source: the index of the request's value, or a constant of the shape. */
type Slot = number | { constant: boolean | null }

const fieldsByEntity = new WeakMap<EntityMetadata, string[]>()

/** The columns a page reads: what em.find would load (no lazy bodies), once per entity. */
function listedFields (meta: EntityMetadata): string[] {
  let fields = fieldsByEntity.get(meta)
  if (fields === undefined) {
    fields = meta.props
      .filter((prop) => prop.lazy !== true && prop.persist !== false && (prop.kind === ReferenceKind.SCALAR || prop.kind === ReferenceKind.MANY_TO_ONE))
      .map((prop) => prop.name)
    fieldsByEntity.set(meta, fields)
  }
  return fields
}

/** The usual order, newest first: a timestamp column, then the id to break ties. */
export function newestFirst<Row extends { id: string }> (list: string, timestamp: keyof Row & string): Pager<Row> {
  return new Pager<Row>(list, [{ field: timestamp, dir: 'desc', kind: 'date' }, { field: 'id', dir: 'desc', kind: 'uuid' }])
}
