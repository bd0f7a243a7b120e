// Keys and brands (admin keys only): create a key or a brand with its first key, the secret
// shown once with a copy button, and revoke keys, with a confirmation step first; make a brand's
// portal link, shown once the same way. Keys are made in the signed-in key's env (env is a wall,
// docs/tenancy.md), and `admin` only without a brand.
import { useState } from 'preact/hooks'
import { describeError, storedKey, usePolled, type LoopClient, type Schemas } from '../api.ts'
import { Badge, Empty, Loaded, SecretOnce, Time, useAnnounce } from '../components.tsx'

type Scope = Schemas['Scope']
type KeyEnv = Schemas['KeyEnv']
type KeyTier = Schemas['KeyTier']

const allScopes: Scope[] = ['admin', 'events:write', 'events:read', 'schemas:write', 'webhooks:manage', 'issues:read', 'issues:write', 'signals:read']

/** The signed-in key's env, read off its `lk_<env>_` prefix: the env every key made here gets. */
const ownEnv = (): KeyEnv => (/^lk_(live|test|dev)_/.exec(storedKey() ?? '')?.[1] as KeyEnv | undefined) ?? 'live'

function EnvNote ({ id }: { id: string }) {
  return <p class='hint' id={id}>Made in this key's environment, <strong>{ownEnv()}</strong>: a key of another environment takes an admin key of that environment, or <code>npm run loop -- keys create</code>.</p>
}
const tiers: KeyTier[] = ['standard', 'premium']

interface Created { title: string, secret: string, detail: string }

type BrandOption = Pick<Schemas['BrandSummary'], 'id' | 'name'>

function CreateKeyForm ({ client, brands, onCreated }: { client: LoopClient, brands: BrandOption[], onCreated: (created: Created) => void }) {
  const [name, setName] = useState('')
  const [tier, setTier] = useState<KeyTier>('standard')
  const [scopes, setScopes] = useState<Scope[]>(['issues:read'])
  const [brandId, setBrandId] = useState('')
  const [failure, setFailure] = useState<string | undefined>()
  const [busy, setBusy] = useState(false)
  const toggle = (scope: Scope, on: boolean) => setScopes(on ? [...scopes, scope] : scopes.filter((s) => s !== scope))
  const submit = async (event: Event) => {
    event.preventDefault()
    setFailure(undefined)
    setBusy(true)
    const body = { name: name.trim(), tier, scopes, ...(brandId === '' ? {} : { brandId }) }
    const { data, error, response } = await client.POST('/api/keys', { body })
    setBusy(false)
    if (data === undefined) { setFailure(describeError(error, response)); return }
    setName('')
    onCreated({ title: `Key "${data.name}" created`, secret: data.secret, detail: `${data.env}, ${data.tier}, scopes ${data.scopes.join(', ')}` })
  }
  return (
    <form class='card-form' onSubmit={(e) => { void submit(e) }} aria-labelledby='create-key-title'>
      <h2 id='create-key-title'>Create a key</h2>
      <label for='key-name'>Name</label>
      <input id='key-name' value={name} required maxLength={200} onInput={(e) => setName(e.currentTarget.value)} />
      <EnvNote id='key-env' />
      <label for='key-tier'>Tier</label>
      <select id='key-tier' value={tier} onChange={(e) => setTier(e.currentTarget.value as KeyTier)}>{tiers.map((v) => <option key={v} value={v}>{v}</option>)}</select>
      <fieldset>
        <legend>Scopes</legend>
        {allScopes.map((scope) => (
          // admin is the operator's: a brand key never holds it.
          <label class='check' key={scope}><input type='checkbox' name='scope' value={scope} disabled={scope === 'admin' && brandId !== ''} checked={scopes.includes(scope)} onChange={(e) => toggle(scope, e.currentTarget.checked)} /> {scope}</label>
        ))}
      </fieldset>
      <label for='key-brand'>Brand (optional)</label>
      <select id='key-brand' value={brandId} onChange={(e) => { setBrandId(e.currentTarget.value); if (e.currentTarget.value !== '') setScopes(scopes.filter((s) => s !== 'admin')) }}>
        <option value=''>No brand</option>
        {brands.map((b) => <option key={b.id} value={b.id}>{b.name} ({b.id.slice(0, 8)})</option>)}
      </select>
      {failure !== undefined && <p class='state state-error' role='alert'>{failure}</p>}
      <button type='submit' disabled={busy || scopes.length === 0}>{busy ? 'Creating…' : 'Create key'}</button>
    </form>
  )
}

function CreateBrandForm ({ client, onCreated }: { client: LoopClient, onCreated: (created: Created) => void }) {
  const [name, setName] = useState('')
  const [keyName, setKeyName] = useState('')
  const [failure, setFailure] = useState<string | undefined>()
  const [busy, setBusy] = useState(false)
  const submit = async (event: Event) => {
    event.preventDefault()
    setFailure(undefined)
    setBusy(true)
    const body = { name: name.trim(), ...(keyName.trim() === '' ? {} : { key: { name: keyName.trim() } }) }
    const { data, error, response } = await client.POST('/api/brands', { body })
    setBusy(false)
    if (data === undefined) { setFailure(describeError(error, response)); return }
    setName('')
    setKeyName('')
    onCreated({ title: `Brand "${data.brand.name}" created with its first key`, secret: data.key.secret, detail: `Brand id ${data.brand.id}; key ${data.key.name} (${data.key.env}, scopes ${data.key.scopes.join(', ')})` })
  }
  return (
    <form class='card-form' onSubmit={(e) => { void submit(e) }} aria-labelledby='create-brand-title'>
      <h2 id='create-brand-title'>Create a brand</h2>
      <label for='brand-name'>Brand name</label>
      <input id='brand-name' value={name} required maxLength={200} onInput={(e) => setName(e.currentTarget.value)} />
      <label for='brand-key-name'>First key's name (optional)</label>
      <input id='brand-key-name' value={keyName} maxLength={200} onInput={(e) => setKeyName(e.currentTarget.value)} />
      <EnvNote id='brand-key-env' />
      {failure !== undefined && <p class='state state-error' role='alert'>{failure}</p>}
      <button type='submit' disabled={busy}>{busy ? 'Creating…' : 'Create brand'}</button>
    </form>
  )
}

function RevokeButton ({ client, apiKey, onRevoked }: { client: LoopClient, apiKey: Schemas['ApiKey'], onRevoked: () => void }) {
  const announce = useAnnounce()
  const [confirming, setConfirming] = useState(false)
  const [failure, setFailure] = useState<string | undefined>()
  const revoke = async () => {
    const { error, response } = await client.DELETE('/api/keys/{id}', { params: { path: { id: apiKey.id } } })
    setConfirming(false)
    // 204: no body to read; the status says it is done.
    if (!response.ok) { setFailure(describeError(error, response)); return }
    announce(`Key "${apiKey.name}" revoked`)
    onRevoked()
  }
  if (!confirming) return <button type='button' class='danger' onClick={() => setConfirming(true)} aria-label={`Revoke key ${apiKey.name} (${apiKey.prefix})`}>Revoke</button>
  return (
    <span class='confirm' role='group' aria-label={`Confirm revoking ${apiKey.name}`}>
      <button type='button' class='danger' autoFocus onClick={() => { void revoke() }}>Confirm revoke</button>
      <button type='button' onClick={() => setConfirming(false)}>Cancel</button>
      {failure !== undefined && <span role='alert'>{failure}</span>}
    </span>
  )
}

/** A brand's portal link (docs/api.md#portal-links), shown once like a secret: it is one until it expires. */
function PortalLinkButton ({ client, brand, onCreated }: { client: LoopClient, brand: BrandOption, onCreated: (created: Created) => void }) {
  const [failure, setFailure] = useState<string | undefined>()
  const [busy, setBusy] = useState(false)
  const make = async () => {
    setFailure(undefined)
    setBusy(true)
    const { data, error, response } = await client.POST('/api/brands/{id}/portal', { params: { path: { id: brand.id } }, body: {} })
    setBusy(false)
    if (data === undefined) { setFailure(describeError(error, response)); return }
    onCreated({ title: `Portal link for ${brand.name}`, secret: data.url, detail: `Opens ${brand.name}'s webhooks and events, and nothing else, without a key, until ${new Date(data.expiresAt).toLocaleString()}.` })
  }
  return (
    <>
      <button type='button' disabled={busy} onClick={() => { void make() }} aria-label={`Portal link for ${brand.name}`}>Portal link</button>
      {failure !== undefined && <p class='state state-error' role='alert'>{failure}</p>}
    </>
  )
}

/** Ends every working portal link of a brand in this env (DELETE /api/brands/{id}/portal), after a confirmation. */
function EndPortalLinksButton ({ client, brand }: { client: LoopClient, brand: BrandOption }) {
  const announce = useAnnounce()
  const [confirming, setConfirming] = useState(false)
  const [outcome, setOutcome] = useState<{ ok: boolean, text: string } | undefined>()
  const end = async () => {
    const { error, response } = await client.DELETE('/api/brands/{id}/portal', { params: { path: { id: brand.id } } })
    setConfirming(false)
    // 204: no body to read; the status says it is done.
    const text = response.ok ? `${brand.name}'s portal links ended` : describeError(error, response)
    setOutcome({ ok: response.ok, text })
    announce(text)
  }
  return (
    <>
      {confirming
        ? (
          <span class='confirm' role='group' aria-label={`Confirm ending ${brand.name}'s portal links`}>
            <button type='button' class='danger' autoFocus onClick={() => { void end() }}>Confirm end links</button>
            <button type='button' onClick={() => setConfirming(false)}>Cancel</button>
          </span>
          )
        : <button type='button' class='danger' onClick={() => { setOutcome(undefined); setConfirming(true) }} aria-label={`End ${brand.name}'s portal links`}>End links</button>}
      {outcome !== undefined && <p class={outcome.ok ? 'muted' : 'state state-error'} role={outcome.ok ? undefined : 'alert'} data-testid='portal-ended'>{outcome.text}</p>}
    </>
  )
}

export function KeysView ({ client, apiKey }: { client: LoopClient, apiKey: string }) {
  // The newest 250 of each: a console page, not an export (the CLI lists every key).
  const keys = usePolled('keys', (init) => client.GET('/api/keys', { params: { query: { limit: 250 } }, ...init }), null)
  const [created, setCreated] = useState<Created | null>(null)
  const brands = usePolled('brands', (init) => client.GET('/api/brands', { params: { query: { limit: 250 } }, ...init }), null)
  const brandList = brands.data?.data ?? []
  const brandName = (id: string) => brandList.find((b) => b.id === id)?.name
  const onCreated = (value: Created) => { setCreated(value); keys.refresh(); brands.refresh() }
  const onRevoked = () => { keys.refresh(); brands.refresh() }
  return (
    <>
      {created !== null && (
        <SecretOnce title={created.title} secret={created.secret} onDismiss={() => setCreated(null)}>
          <p class='muted'>{created.detail}</p>
        </SecretOnce>
      )}
      <div class='forms'>
        <CreateKeyForm client={client} brands={brandList} onCreated={onCreated} />
        <CreateBrandForm client={client} onCreated={onCreated} />
      </div>
      <h2>Keys</h2>
      <Loaded polled={keys} what='keys'>
        {({ data: list }) => list.length === 0
          ? <Empty>No keys yet.</Empty>
          : (
            <table>
              <caption>API keys, newest first (revoked ones included)</caption>
              <thead><tr><th scope='col'>Name</th><th scope='col'>Prefix</th><th scope='col'>Env</th><th scope='col'>Tier</th><th scope='col'>Scopes</th><th scope='col'>Brand</th><th scope='col'>Last used</th><th scope='col'>State</th></tr></thead>
              <tbody>
                {list.map((k) => (
                  <tr key={k.id} data-testid='key-row' data-key-name={k.name}>
                    <td>{k.name}{apiKey.startsWith(k.prefix) && <div class='muted'>(this session's key)</div>}</td>
                    <td><code>{k.prefix}…</code></td>
                    <td>{k.env}</td>
                    <td>{k.tier}</td>
                    <td>{k.scopes.join(', ')}</td>
                    <td>{k.brandId === null ? <span class='muted'>none</span> : <span title={k.brandId}>{brandName(k.brandId) ?? <code>{k.brandId.slice(0, 8)}</code>}</span>}</td>
                    <td><Time at={k.lastUsedAt} /></td>
                    <td>{k.revokedAt !== null
                      ? <Badge kind='revoked'>revoked <Time at={k.revokedAt} /></Badge>
                      : <RevokeButton client={client} apiKey={k} onRevoked={onRevoked} />}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            )}
      </Loaded>
      <h2>Brands</h2>
      <Loaded polled={brands} what='brands'>
        {({ data: list }) => list.length === 0
          ? <Empty>No brands yet.</Empty>
          : (
            <table>
              <caption>Brands, newest first, with their active (unrevoked) keys</caption>
              <thead><tr><th scope='col'>Name</th><th scope='col'>Id</th><th scope='col'>Active keys</th><th scope='col'>Created</th><th scope='col'>Portal</th></tr></thead>
              <tbody>
                {list.map((b) => (
                  <tr key={b.id} data-testid='brand-row' data-brand-name={b.name}>
                    <td>{b.name}</td>
                    <td><code>{b.id}</code></td>
                    <td>{b.activeKeys}</td>
                    <td><Time at={b.createdAt} /></td>
                    <td><PortalLinkButton client={client} brand={b} onCreated={setCreated} /> <EndPortalLinksButton client={client} brand={b} /></td>
                  </tr>
                ))}
              </tbody>
            </table>
            )}
      </Loaded>
    </>
  )
}
