// Builds the workspace packages into their dist/, dependencies first: packages/contracts
// (@loop/contracts), then packages/sdk (@loop/sdk). Each package's src/index.ts is bundled twice
// by esbuild, as ESM (dist/esm) and as CommonJS (dist/cjs, marked by its own package.json), with
// the server's lib/ code it uses compiled in and its package.json dependencies left as imports.
// `platform: 'neutral'` makes a Node-only import in that code a build error. Declarations come from
// tsc over the same sources, copied beside each format so `types` answers per condition.
// Run by `npm run build`, and by each package's `prepack` (`npm pack` never ships an empty dist).
import { build, type BuildOptions } from 'esbuild'
import { execFile } from 'node:child_process'
import { access, mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

const root = fileURLToPath(new URL('..', import.meta.url))

/** Every package, each after those it depends on. */
export const packageNames = ['contracts', 'sdk'] as const
export type PackageName = typeof packageNames[number]

async function files (dir: string): Promise<string[]> {
  const found: string[] = []
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) found.push(...await files(path))
    else found.push(path)
  }
  return found
}

const relativeSpecifier = /(from\s+'|import\('|declare module\s+')(\.{1,2}\/[^']*?)'/g

/**
 * tsc's declarations into `dir`: the sources' `.ts` specifiers become `.js` (what a consumer's
 * resolver maps to `.d.ts`), and only the files reachable from the entry are kept.
 */
async function declarations (pkg: string, tmp: string): Promise<Map<string, string>> {
  await promisify(execFile)(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(pkg, 'tsconfig.json'), '--outDir', tmp])
    .catch((error: { stdout?: string }) => { throw new Error(`tsc failed for ${relative(root, pkg)}:\n${error.stdout ?? String(error)}`) })
  const texts = new Map<string, string>()
  for (const file of (await files(tmp)).filter((f) => f.endsWith('.d.ts'))) {
    const text = await readFile(file, 'utf8')
    texts.set(relative(tmp, file), text.replace(relativeSpecifier, (_m, lead: string, spec: string) => `${lead}${spec.replace(/\.ts$/, '.js')}'`))
  }
  const entry = relative(tmp, join(tmp, relative(root, pkg), 'src', 'index.d.ts'))
  const kept = new Map<string, string>()
  const visit = (file: string) => {
    const text = texts.get(file)
    if (text === undefined || kept.has(file)) return
    kept.set(file, text)
    for (const match of text.matchAll(relativeSpecifier)) visit(join(dirname(file), (match[2] as string).replace(/\.js$/, '.d.ts')))
  }
  visit(entry)
  return kept
}

export async function buildPackage (name: PackageName): Promise<void> {
  const pkg = join(root, 'packages', name)
  const dist = join(pkg, 'dist')
  const manifest = JSON.parse(await readFile(join(pkg, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> }
  await rm(dist, { recursive: true, force: true })
  const options: BuildOptions = {
    entryPoints: [join(pkg, 'src', 'index.ts')],
    bundle: true,
    platform: 'neutral',
    mainFields: ['module', 'main'],
    target: 'es2022',
    sourcemap: true,
    external: Object.keys(manifest.dependencies ?? {}),
    logLevel: 'warning'
  }
  await build({ ...options, format: 'esm', outfile: join(dist, 'esm', 'index.js') })
  await build({ ...options, format: 'cjs', outfile: join(dist, 'cjs', 'index.js') })
  await writeFile(join(dist, 'cjs', 'package.json'), '{ "type": "commonjs" }\n')

  const tmp = join(dist, '.types')
  const types = await declarations(pkg, tmp)
  await rm(tmp, { recursive: true, force: true })
  for (const format of ['esm', 'cjs']) {
    for (const [file, text] of types) {
      const out = join(dist, format, 'types', file)
      await mkdir(dirname(out), { recursive: true })
      await writeFile(out, text)
    }
    await writeFile(join(dist, format, 'index.d.ts'), `export * from './types/packages/${name}/src/index.js'\n`)
  }
}

const built = async (name: PackageName) => await access(join(root, 'packages', name, 'dist', 'esm', 'index.d.ts')).then(() => true, () => false)

/**
 * Builds `names`, in dependency order, and before them each package they depend on that has no
 * dist yet (its declarations are what tsc reads for the dependent's types).
 */
export async function buildPackages (names: readonly PackageName[] = packageNames): Promise<void> {
  const wanted = Math.max(...names.map((name) => packageNames.indexOf(name)))
  for (const name of packageNames.slice(0, wanted + 1)) {
    if (names.includes(name) || !await built(name)) await buildPackage(name)
  }
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const names = process.argv.slice(2)
  const unknown = names.filter((name) => !(packageNames as readonly string[]).includes(name))
  if (unknown.length > 0) throw new Error(`unknown package ${unknown.join(', ')}: expected ${packageNames.join(', ')}`)
  await buildPackages(names.length === 0 ? packageNames : names as PackageName[])
  console.log(`built ${(names.length === 0 ? packageNames : names).map((name) => `packages/${name}/dist`).join(', ')}`)
}

