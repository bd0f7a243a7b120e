// Debian packages the end-to-end tests drive (Chromium, Flask). On a machine without one the test
// installs it (`apt-get install -y <package>`, as root; `apt-get update` first when that fails),
// so `npm test` on a fresh machine needs no extra step; if that is impossible the test fails with
// the reason, it never skips.
//
// tap runs two files at once, and two of them may find the same package missing: the second
// apt-get would fail on dpkg's lock. So every call waits its turn on one lock file (flock, from
// util-linux) and on dpkg's own lock (DPkg::Lock::Timeout, for an apt run outside the tests);
// the turn's holder may already have installed the package, which apt-get then leaves as it is.
import { execFileSync, type ExecFileSyncOptions } from 'node:child_process'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const lockFile = join(tmpdir(), 'loop-test-apt.lock')

/** Runs `present` and, when it says no, installs `pkg` with apt-get and asks again. */
export function ensureDebianPackage (pkg: string, present: () => boolean, hint: string): void {
  if (present()) return
  // apt's output goes to stderr: on stdout the test runner would read it as TAP.
  const options: ExecFileSyncOptions = { stdio: ['ignore', 2, 2], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } }
  const aptGet = (...args: string[]) =>
    execFileSync('flock', ['--wait', '900', lockFile, 'apt-get', '-o', 'DPkg::Lock::Timeout=900', ...args], options)
  try {
    aptGet('install', '-y', pkg)
  } catch {
    try {
      aptGet('update')
      aptGet('install', '-y', pkg)
    } catch (error) {
      throw new Error(`${pkg} is missing and \`apt-get install -y ${pkg}\` failed (${(error as Error).message}); ${hint}`)
    }
  }
  if (!present()) throw new Error(`apt-get installed ${pkg} but it is still not usable; ${hint}`)
}
