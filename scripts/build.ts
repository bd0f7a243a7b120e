// `npm run build`: every build step Loop has, one function each, run in order.
import { relative } from 'node:path'
import { bundleAdmin } from '../admin/build.ts'

/** The admin console: admin/src → admin/dist (index.html, app.js, app.css), served at /admin. */
export async function buildAdmin (): Promise<void> {
  const { outdir, files, ms } = await bundleAdmin()
  console.log(`admin console: ${files.join(', ')} in ${relative(process.cwd(), outdir)}/ (${ms} ms)`)
}

await buildAdmin()
