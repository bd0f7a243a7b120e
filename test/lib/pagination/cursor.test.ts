import t from 'tap'
import { decodeCursor, encodeCursor } from '../../../lib/pagination/cursor.ts'

const isPair = (key: unknown[]): key is [number, number] => key.length === 2 && key.every(Number.isInteger)

t.test('a cursor round-trips its key and is URL-safe', async (t) => {
  const cursor = encodeCursor([2, 1234])
  t.match(cursor, /^[A-Za-z0-9_-]+$/)
  t.same(decodeCursor(cursor, isPair), [2, 1234])
})

const foreign: [string, string][] = [
  ['not base64 JSON', '%%%'],
  ['JSON that is not an array', Buffer.from('{"a":1}').toString('base64url')],
  ['an array of the wrong shape', encodeCursor(['x', 1])],
  ['an array of the wrong length', encodeCursor([1, 2, 3])]
]
for (const [name, cursor] of foreign) {
  t.test(`${name} is a 422 VALIDATION_ERROR on cursor`, async (t) => {
    const error = t.throws(() => decodeCursor(cursor, isPair))
    t.match(error, { statusCode: 422, code: 'VALIDATION_ERROR', issues: [{ path: 'cursor', code: 'invalid_string' }] })
  })
}
