// `npm run build`: everything Loop ships that is built from source rather than committed.
import { buildSdk } from './build-sdk.ts'

await buildSdk()
console.log('built sdk/dist')
