// The admin console at /admin: static files only (admin/dist), outside the API. It holds no
// key and has no private endpoints: the browser signs in with an API key and calls /api/* like
// any other client. /admin/portal is the same console opened by a brand's portal link (the token
// after `#`, lib/portal/portal-link.ts); only that page may be framed, by the origins of
// LOOP_PORTAL_FRAME_ANCESTORS. Built at start-up when admin/dist is missing or older than admin/src, so
// `npm ci && npm start` serves a working console without a separate build step.
import type { FastifyInstance } from 'fastify'
import fastifyStatic from '@fastify/static'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { adminBuildIsStale, adminDistDir, bundleAdmin } from '../admin/build.ts'

// Everything the page loads comes from /admin itself; API calls go to the same origin. The key
// sits in sessionStorage, so no script from anywhere else may ever run beside it.
const policyFramedBy = (ancestors: readonly string[]) => [
  "default-src 'none'", "script-src 'self'", "style-src 'self'", "connect-src 'self'", "img-src 'self' data:",
  "base-uri 'none'", "form-action 'none'", `frame-ancestors ${ancestors.length === 0 ? "'none'" : ancestors.join(' ')}`
].join('; ')
const contentSecurityPolicy = policyFramedBy([])

async function ensureBuilt (fastify: FastifyInstance): Promise<void> {
  if (!await adminBuildIsStale()) return
  try {
    const { ms } = await bundleAdmin()
    fastify.log.info({ ms }, 'admin console built into admin/dist')
  } catch (error) {
    // A read-only install with an older build keeps serving it; without any build /admin is 404.
    fastify.log.warn({ err: error }, 'could not build the admin console (run `npm run build`)')
  }
}

export default async function adminRoutes (fastify: FastifyInstance): Promise<void> {
  await ensureBuilt(fastify)
  if (!existsSync(join(adminDistDir, 'index.html'))) return
  // Fastify's router ignores trailing slashes here, so /admin and /admin/ are one route: the page
  // is served at /admin/ and /admin redirects there, so that ./app.js resolves under /admin/.
  await fastify.register(fastifyStatic, {
    root: adminDistDir,
    serve: false,
    cacheControl: false,
    // File names are not hashed: revalidate every time (ETag/Last-Modified make that a 304).
    setHeaders: (reply) => { reply.header('cache-control', 'no-cache') }
  })
  const hidden = { schema: { hide: true } }
  fastify.get('/admin', hidden, async (request, reply) => {
    if (!request.url.split('?')[0]?.endsWith('/')) return reply.redirect('/admin/', 301)
    return reply.header('content-security-policy', contentSecurityPolicy).sendFile('index.html')
  })
  const ancestors = fastify.config.portalFrameAncestors
  const portalPolicy = policyFramedBy(ancestors)
  fastify.get('/admin/portal', hidden, async (request, reply) => {
    // ./app.js must resolve under /admin/; a redirect keeps the fragment (the token) in the browser.
    if (request.url.split('?')[0]?.endsWith('/')) return reply.redirect('/admin/portal', 301)
    reply.header('content-security-policy', portalPolicy)
    // helmet's X-Frame-Options: SAMEORIGIN would contradict the listed origins (CSP supersedes it
    // in current browsers; older ones would refuse the frame).
    if (ancestors.length > 0) reply.removeHeader('x-frame-options')
    return reply.sendFile('index.html')
  })
  for (const file of ['app.js', 'app.css']) {
    fastify.get(`/admin/${file}`, hidden, async (_request, reply) => reply.header('content-security-policy', contentSecurityPolicy).sendFile(file))
  }
}
