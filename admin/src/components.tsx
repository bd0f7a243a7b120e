// Small shared pieces: the loading/error/empty states every view shows, time and JSON display,
// the shown-once secret with its copy button, and the live region that announces updates.
import { createContext, type ComponentChildren } from 'preact'
import { useContext, useEffect, useRef, useState } from 'preact/hooks'

export const Announce = createContext<(message: string) => void>(() => {})
export const useAnnounce = () => useContext(Announce)

export function Loading ({ what }: { what: string }) {
  return <p class='state state-loading' role='status'>Loading {what}…</p>
}

export function ErrorState ({ message, retry }: { message: string, retry?: () => void }) {
  return (
    <div class='state state-error' role='alert'>
      <p><strong>Could not load.</strong> {message}</p>
      {retry !== undefined && <button type='button' onClick={retry}>Try again</button>}
    </div>
  )
}

export function Empty ({ children }: { children: ComponentChildren }) {
  return <p class='state state-empty'>{children}</p>
}

/** The three states before content: loading (nothing yet), error (and nothing yet), or the content. */
export function Loaded<T> ({ polled, what, children }: { polled: { data: T | undefined, error: string | undefined, loading: boolean, refresh: () => void }, what: string, children: (data: T) => ComponentChildren }) {
  if (polled.data === undefined) {
    if (polled.error !== undefined) return <ErrorState message={polled.error} retry={polled.refresh} />
    return <Loading what={what} />
  }
  return (
    <>
      {polled.error !== undefined && <p class='state state-error' role='alert'>Refresh failed: {polled.error}</p>}
      {children(polled.data)}
    </>
  )
}

export function Time ({ at }: { at: string | null | undefined }) {
  if (at === null || at === undefined) return <span class='muted'>—</span>
  const date = new Date(at)
  return <time dateTime={at} title={date.toISOString()}>{date.toLocaleString()}</time>
}

export function Json ({ value, label }: { value: unknown, label: string }) {
  return <pre class='json' aria-label={label} tabIndex={0}>{JSON.stringify(value, null, 2)}</pre>
}

export function Badge ({ kind, children }: { kind: string, children: ComponentChildren }) {
  return <span class={`badge badge-${kind}`}>{children}</span>
}

/** A value to copy: the Clipboard API, or selecting the text for Ctrl+C where it is refused. */
export function CopyButton ({ text, label }: { text: string, label: string }) {
  const announce = useAnnounce()
  const [copied, setCopied] = useState(false)
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text)
      setCopied(true)
      announce(`${label} copied to the clipboard`)
    } catch {
      announce(`Copying is not allowed here: select the ${label.toLowerCase()} and press Ctrl+C`)
    }
  }
  return <button type='button' onClick={() => { void copy() }}>{copied ? 'Copied' : `Copy ${label.toLowerCase()}`}</button>
}

/** A secret Loop shows once: kept only in this component's state, gone when dismissed. */
export function SecretOnce ({ title, secret, onDismiss, children }: { title: string, secret: string, onDismiss: () => void, children?: ComponentChildren }) {
  const heading = useRef<HTMLHeadingElement>(null)
  // Focus moves to the secret so keyboard and screen-reader users land on it.
  useEffect(() => { heading.current?.focus() }, [secret])
  return (
    <section class='secret' aria-labelledby='secret-title'>
      <h3 id='secret-title' tabIndex={-1} ref={heading}>{title}</h3>
      <p>This is the only time Loop shows it. Store it now: Loop keeps only a hash.</p>
      {children}
      <p class='secret-value'><code data-testid='secret'>{secret}</code></p>
      <div class='actions'>
        <CopyButton text={secret} label='Secret' />
        <button type='button' onClick={onDismiss}>I have stored it</button>
      </div>
    </section>
  )
}
