// Debian's Chromium for the console's end-to-end test. On a machine without it the test installs
// it (`apt-get install -y chromium`, as root), so `npm test` on a fresh machine needs no extra step;
// if that is impossible the test fails with the reason, it never skips.
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'

export function chromiumPath (): string {
  const path = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
  if (existsSync(path)) return path
  if (process.env.CHROMIUM_PATH !== undefined) throw new Error(`CHROMIUM_PATH=${path} does not exist`)
  try {
    const apt = { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } } as const
    execFileSync('apt-get', ['install', '-y', 'chromium'], apt)
  } catch {
    try {
      execFileSync('apt-get', ['update'], { stdio: 'inherit' })
      execFileSync('apt-get', ['install', '-y', 'chromium'], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } })
    } catch (error) {
      throw new Error(`Chromium is missing at ${path} and \`apt-get install -y chromium\` failed (${(error as Error).message}); install it or set CHROMIUM_PATH`)
    }
  }
  if (!existsSync(path)) throw new Error(`apt-get installed chromium but ${path} is still missing; set CHROMIUM_PATH`)
  return path
}
