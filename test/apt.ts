// Debian packages the end-to-end tests drive (Chromium, Flask). On a machine without one the test
// installs it (`apt-get install -y <package>`, as root; `apt-get update` first when that fails),
// so `npm test` on a fresh machine needs no extra step; if that is impossible the test fails with
// the reason, it never skips.
import { execFileSync, type ExecFileSyncOptions } from 'node:child_process'

/** Runs `present` and, when it says no, installs `pkg` with apt-get and asks again. */
export function ensureDebianPackage (pkg: string, present: () => boolean, hint: string): void {
  if (present()) return
  // apt's output goes to stderr: on stdout the test runner would read it as TAP.
  const options: ExecFileSyncOptions = { stdio: ['ignore', 2, 2], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } }
  try {
    execFileSync('apt-get', ['install', '-y', pkg], options)
  } catch {
    try {
      execFileSync('apt-get', ['update'], options)
      execFileSync('apt-get', ['install', '-y', pkg], options)
    } catch (error) {
      throw new Error(`${pkg} is missing and \`apt-get install -y ${pkg}\` failed (${(error as Error).message}); ${hint}`)
    }
  }
  if (!present()) throw new Error(`apt-get installed ${pkg} but it is still not usable; ${hint}`)
}
