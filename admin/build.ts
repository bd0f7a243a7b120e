// Builds the admin console (admin/src → admin/dist): esbuild bundles Preact, the SDK's client,
// uPlot (the charts, with its stylesheet, imported by admin/src/charts.tsx) and the views into one
// minified app.js and app.css beside a static index.html. Used by
// `npm run build` (scripts/build.ts) and by the admin plugin when it finds no current build.
import { copyFile, mkdir, mkdtemp, readdir, rename, rm, stat } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const adminDir = dirname(fileURLToPath(import.meta.url))
export const adminSourceDir = join(adminDir, 'src')
export const adminDistDir = join(adminDir, 'dist')

export interface AdminBuildResult { outdir: string, files: string[], ms: number }

export async function bundleAdmin (outdir: string = adminDistDir): Promise<AdminBuildResult> {
  const started = Date.now()
  // Imported here so a server that never builds (a prebuilt dist) never loads esbuild.
  const esbuild = await import('esbuild')
  await mkdir(outdir, { recursive: true })
  // Built beside dist and renamed in file by file: several Loops starting at once (tests, a
  // cluster) may all build, and none of them ever serves a half-written file.
  const scratch = await mkdtemp(join(outdir, '.build-'))
  try {
    await esbuild.build({
      entryPoints: { app: join(adminSourceDir, 'main.tsx') },
      outdir: scratch,
      bundle: true,
      minify: true,
      sourcemap: false,
      format: 'esm',
      target: ['chrome110', 'firefox110', 'safari16'],
      platform: 'browser',
      jsx: 'automatic',
      jsxImportSource: 'preact',
      tsconfig: join(adminDir, 'tsconfig.json'),
      legalComments: 'none',
      logLevel: 'silent'
    })
    await copyFile(join(adminSourceDir, 'index.html'), join(scratch, 'index.html'))
    // index.html last: it is what says a build is there.
    const built = (await readdir(scratch)).sort((a, b) => Number(a === 'index.html') - Number(b === 'index.html'))
    for (const file of built) await rename(join(scratch, file), join(outdir, file))
  } finally {
    await rm(scratch, { recursive: true, force: true })
  }
  return { outdir, files: (await readdir(outdir)).filter((file) => !file.startsWith('.')).sort(), ms: Date.now() - started }
}

async function newestMtime (dir: string): Promise<number> {
  let newest = 0
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    newest = Math.max(newest, entry.isDirectory() ? await newestMtime(path) : (await stat(path)).mtimeMs)
  }
  return newest
}

/** True when dist has no index.html or app.js, or a source file is newer than the built app.js. */
export async function adminBuildIsStale (outdir: string = adminDistDir): Promise<boolean> {
  try {
    await stat(join(outdir, 'index.html'))
    const built = (await stat(join(outdir, 'app.js'))).mtimeMs
    return await newestMtime(adminSourceDir) > built
  } catch {
    return true
  }
}
