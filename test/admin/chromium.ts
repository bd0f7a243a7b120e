// Debian's Chromium for the browser end-to-end tests, installed by test/apt.ts when missing.
import { existsSync } from 'node:fs'
import { ensureDebianPackage } from '../apt.ts'

export function chromiumPath (): string {
  const path = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
  if (process.env.CHROMIUM_PATH !== undefined && !existsSync(path)) throw new Error(`CHROMIUM_PATH=${path} does not exist`)
  ensureDebianPackage('chromium', () => existsSync(path), `install it or set CHROMIUM_PATH (looked for ${path})`)
  return path
}
