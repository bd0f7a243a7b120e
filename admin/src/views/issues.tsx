// Issues board: one column per status, cards with priority, type and claim; the selected issue
// (#/issues/<id>) opens beside it with its signal's payload. New issues are announced as they arrive.
import { useEffect, useRef, useState } from 'preact/hooks'
import { describeError, usePolled, type LoopClient, type Schemas } from '../api.ts'
import { Badge, Empty, Json, Loaded, Time, useAnnounce } from '../components.tsx'

type Issue = Schemas['Issue']
type IssueStatus = Schemas['IssueStatus']

export const columns: { status: IssueStatus, label: string }[] = [
  { status: 'triage', label: 'Triage' },
  { status: 'todo', label: 'To do' },
  { status: 'in_progress', label: 'In progress' },
  { status: 'done', label: 'Done' },
  { status: 'canceled', label: 'Canceled' }
]

// The API's workflow (PATCH /api/issues/{id}); offering only these avoids a certain 409.
const nextStatuses: Record<IssueStatus, IssueStatus[]> = {
  triage: ['todo', 'in_progress', 'done', 'canceled'],
  todo: ['triage', 'in_progress', 'done', 'canceled'],
  in_progress: ['todo', 'done', 'canceled'],
  done: ['todo'],
  canceled: ['triage', 'todo']
}
const statusLabel = (status: IssueStatus) => columns.find((c) => c.status === status)?.label ?? status

function Card ({ issue, selected }: { issue: Issue, selected: boolean }) {
  return (
    <li>
      <a class={`card${selected ? ' card-selected' : ''}`} href={`#/issues/${issue.id}`} aria-current={selected ? 'true' : undefined} data-testid='issue-card'>
        <span class='card-title'>#{issue.number} {issue.title}</span>
        <span class='card-meta'>
          <Badge kind={`p${issue.priority}`}>P{issue.priority}</Badge> <Badge kind='type'>{issue.type}</Badge>
          {' '}{issue.claimedBy !== null
            ? <span>claimed by <strong>{issue.claimedBy}</strong>{issue.claimedAt !== null && <> · <Time at={issue.claimedAt} /></>}</span>
            : <span class='muted'>unclaimed</span>}
        </span>
      </a>
    </li>
  )
}

function IssueDetail ({ client, id, onChanged }: { client: LoopClient, id: string, onChanged: () => void }) {
  const announce = useAnnounce()
  const detail = usePolled(`issue:${id}`, (init) => client.GET('/api/issues/{id}', { params: { path: { id } }, ...init }))
  const [target, setTarget] = useState<IssueStatus | ''>('')
  const [failure, setFailure] = useState<string | undefined>()
  const move = async (issue: Issue) => {
    if (target === '') return
    setFailure(undefined)
    const { data, error, response } = await client.PATCH('/api/issues/{id}', { params: { path: { id: issue.id } }, body: { status: target } })
    if (data === undefined) { setFailure(describeError(error, response)); return }
    announce(`Issue #${data.number} moved to ${statusLabel(data.status)}`)
    setTarget('')
    detail.refresh()
    onChanged()
  }
  return (
    <section class='panel' aria-labelledby='issue-detail-title'>
      <Loaded polled={detail} what='the issue'>
        {({ signal, ...issue }) => (
          <>
            <h2 id='issue-detail-title'>#{issue.number} {issue.title}</h2>
            <dl class='fields'>
              <dt>Status</dt><dd>{statusLabel(issue.status)}</dd>
              <dt>Priority</dt><dd><Badge kind={`p${issue.priority}`}>P{issue.priority}</Badge></dd>
              <dt>Type</dt><dd>{issue.type}</dd>
              <dt>Claimed by</dt><dd>{issue.claimedBy ?? <span class='muted'>nobody</span>}{issue.claimedAt !== null && <> at <Time at={issue.claimedAt} /></>}</dd>
              <dt>Assignee</dt><dd>{issue.assignee ?? <span class='muted'>none</span>}</dd>
              <dt>Created</dt><dd><Time at={issue.createdAt} /></dd>
              <dt>Updated</dt><dd><Time at={issue.updatedAt} /></dd>
            </dl>
            {issue.description !== null && <p class='description'>{issue.description}</p>}
            <form class='inline' onSubmit={(e) => { e.preventDefault(); void move(issue) }}>
              <label for='issue-status'>Move to</label>
              <select id='issue-status' value={target} onChange={(e) => setTarget(e.currentTarget.value as IssueStatus | '')}>
                <option value=''>Choose a status</option>
                {nextStatuses[issue.status].map((s) => <option key={s} value={s}>{statusLabel(s)}</option>)}
              </select>
              <button type='submit' disabled={target === ''}>Update status</button>
            </form>
            {failure !== undefined && <p class='state state-error' role='alert'>{failure}</p>}
            <h3>Signal</h3>
            {signal === null
              ? <Empty>This issue did not come from a signal.</Empty>
              : (
                <>
                  <p><Badge kind='source'>{signal.source}</Badge> {signal.type} · severity <Badge kind={`sev-${signal.severity}`}>{signal.severity}</Badge> · received <Time at={signal.createdAt} /></p>
                  <Json value={signal.payload} label='Signal payload' />
                </>
                )}
          </>
        )}
      </Loaded>
      <p><a href='#/issues'>Close</a></p>
    </section>
  )
}

export function IssuesView ({ client, selectedId }: { client: LoopClient, selectedId: string | undefined }) {
  const announce = useAnnounce()
  const board = usePolled('issues', (init) => client.GET('/api/issues', { params: { query: { limit: 250 } }, ...init }))
  const seen = useRef<Set<string> | null>(null)

  useEffect(() => {
    const issues = board.data?.data
    if (issues === undefined) return
    const previous = seen.current
    seen.current = new Set(issues.map((i) => i.id))
    if (previous === null) return
    const fresh = issues.filter((i) => !previous.has(i.id))
    if (fresh.length === 1 && fresh[0] !== undefined) announce(`New issue #${fresh[0].number}: ${fresh[0].title}`)
    else if (fresh.length > 1) announce(`${fresh.length} new issues`)
  }, [board.data, announce])

  return (
    <>
      <Loaded polled={board} what='issues'>
        {({ data: issues, done }) => (
          <>
            <p class='muted'>{issues.length} issue{issues.length === 1 ? '' : 's'}, most urgent first{!done && ' (the 250 most urgent are shown)'}. Updates live.</p>
            <div class='board'>
              {columns.map((column) => {
                const inColumn = issues.filter((i) => i.status === column.status)
                return (
                  <section class='column' key={column.status} aria-labelledby={`col-${column.status}`} data-status={column.status}>
                    <h2 id={`col-${column.status}`}>{column.label} <span class='count'>({inColumn.length})</span></h2>
                    {inColumn.length === 0
                      ? <Empty>No issues.</Empty>
                      : <ul class='cards'>{inColumn.map((issue) => <Card key={issue.id} issue={issue} selected={issue.id === selectedId} />)}</ul>}
                  </section>
                )
              })}
            </div>
          </>
        )}
      </Loaded>
      {selectedId !== undefined && <IssueDetail client={client} id={selectedId} onChanged={board.refresh} />}
    </>
  )
}
