// The console build: from nothing to index.html, app.js and app.css, and the staleness check the
// server uses at start-up to rebuild a missing or outdated admin/dist.
import t from 'tap'
import { mkdtemp, readFile, rm, utimes } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { adminBuildIsStale, bundleAdmin } from '../../admin/build.ts'

const outdir = await mkdtemp(join(tmpdir(), 'loop-admin-'))
t.teardown(() => rm(outdir, { recursive: true, force: true }))

t.test('an empty directory is stale; a build fills it with the three files and is current', async (t) => {
  t.equal(await adminBuildIsStale(outdir), true)
  const { files } = await bundleAdmin(outdir)
  t.same(files, ['app.css', 'app.js', 'index.html'])
  t.equal(await adminBuildIsStale(outdir), false)
  const js = await readFile(join(outdir, 'app.js'), 'utf8')
  t.notMatch(js, /from\s*["']preact["']/, 'Preact is bundled, not imported')
  t.notMatch(js, /\n {2}/, 'minified')
  t.match(await readFile(join(outdir, 'index.html'), 'utf8'), /src="\.\/app\.js"/)
})

t.test('a source file newer than the build makes it stale', async (t) => {
  const built = join(outdir, 'app.js')
  await utimes(built, new Date(0), new Date(0))
  t.equal(await adminBuildIsStale(outdir), true, 'every source is newer than a 1970 build')
  const future = new Date(Date.now() + 60_000)
  await utimes(built, future, future)
  t.equal(await adminBuildIsStale(outdir), false)
})
