// Builds the SDK workspace (sdk/) into sdk/dist: one ESM bundle per entry point (index, client),
// with the server's own validator and signature verifiers compiled in, and type declarations
// emitted by tsc from the same sources. The package's dependencies stay external imports.
import { build } from 'esbuild'
import { execFile } from 'node:child_process'
import { readFile, readdir, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

const root = fileURLToPath(new URL('..', import.meta.url))
const sdk = join(root, 'sdk')
const dist = join(sdk, 'dist')
const entries = ['index', 'client']

async function declarationFiles (dir: string): Promise<string[]> {
  const found: string[] = []
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) found.push(...await declarationFiles(path))
    else if (entry.name.endsWith('.d.ts')) found.push(path)
  }
  return found
}

export async function buildSdk (): Promise<void> {
  const manifest = JSON.parse(await readFile(join(sdk, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> }
  await rm(dist, { recursive: true, force: true })
  await build({
    entryPoints: entries.map((name) => join(sdk, 'src', `${name}.ts`)),
    outdir: dist,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    sourcemap: true,
    external: Object.keys(manifest.dependencies ?? {}),
    logLevel: 'warning'
  })
  await promisify(execFile)(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(sdk, 'tsconfig.json')])
  // Declarations keep the sources' `.ts` specifiers; `.js` is what a consumer's resolver maps to `.d.ts`.
  for (const file of await declarationFiles(join(dist, 'types'))) {
    const text = await readFile(file, 'utf8')
    await writeFile(file, text.replace(/(from\s+'\.{1,2}\/[^']*?)\.ts'/g, "$1.js'").replace(/(import\('\.{1,2}\/[^']*?)\.ts'\)/g, "$1.js')"))
  }
  for (const name of entries) {
    await writeFile(join(dist, `${name}.d.ts`), `export * from './types/sdk/src/${name}.js'\n`)
  }
}
