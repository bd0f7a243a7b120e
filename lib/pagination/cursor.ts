// Opaque keyset cursors: the sort key of the last row of a page, as base64url JSON. Clients pass
// `nextCursor` back untouched; anything that does not decode to the expected key is a 422.
import { validationError } from '../errors.ts'

export function encodeCursor (key: readonly (string | number)[]): string {
  return Buffer.from(JSON.stringify(key), 'utf8').toString('base64url')
}

export function decodeCursor<K extends unknown[]> (text: string, isKey: (key: unknown[]) => key is K): K {
  let key: unknown = null
  try {
    key = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'))
  } catch {
    // Not JSON: reported below like any other foreign cursor.
  }
  if (!Array.isArray(key) || !isKey(key)) {
    throw validationError(
      [{ path: 'cursor', message: 'Invalid cursor: pass the nextCursor of a previous page', code: 'invalid_string' }],
      'querystring.cursor: Invalid cursor: pass the nextCursor of a previous page'
    )
  }
  return key
}
