// `npm run build`: everything Loop ships that is built from source rather than committed, one
// function per step.
import { relative } from 'node:path'
import { buildPackages, packageNames } from './build-packages.ts'
import { bundleAdmin } from '../admin/build.ts'

/** The admin console: admin/src → admin/dist (index.html, app.js, app.css), served at /admin. */
export async function buildAdmin (): Promise<void> {
  const { outdir, files, ms } = await bundleAdmin()
  console.log(`built admin console: ${files.join(', ')} in ${relative(process.cwd(), outdir)}/ (${ms} ms)`)
}

await buildPackages()
console.log(`built ${packageNames.map((name) => `packages/${name}/dist`).join(', ')}`)
await buildAdmin()
