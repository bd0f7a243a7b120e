// The overview: what the key owns over the last hour or day (GET /api/stats/overview): events
// accepted, delivery success rate, the queue's depth and its oldest delivery's wait, and the
// queue as it is now. Refreshed every 10 s.
import { useMemo, useState } from 'preact/hooks'
import { usePolled, type LoopClient, type Schemas } from '../api.ts'
import { Loaded } from '../components.tsx'
import { bucketTimes, Chart, duration, percent, WindowToggle, windowWords, type StatsWindow } from '../charts.tsx'

const REFRESH_MS = 10_000

function OverviewCharts ({ stats }: { stats: Schemas['StatsOverview'] }) {
  const words = windowWords[stats.window]
  const per = stats.window === '1h' ? 'minute' : `${stats.bucketSeconds / 60} minutes`
  const charts = useMemo(() => {
    const x = bucketTimes(stats.buckets)
    const rate = stats.buckets.map((b) => (b.succeeded + b.failed === 0 ? null : b.succeeded / (b.succeeded + b.failed)))
    return {
      x,
      ingest: [{ label: `Events per ${per}`, values: stats.buckets.map((b) => b.events), colour: '--chart-1' }],
      success: [{ label: 'Success rate', values: rate, colour: '--chart-ok', format: percent }],
      attempts: [
        { label: 'Succeeded', values: stats.buckets.map((b) => b.succeeded), colour: '--chart-ok' },
        { label: 'Failed', values: stats.buckets.map((b) => b.failed), colour: '--chart-fail' }
      ],
      queued: [{ label: 'Queued deliveries', values: stats.buckets.map((b) => b.queued), colour: '--chart-2' }],
      oldest: [{ label: 'Oldest queued', values: stats.buckets.map((b) => b.oldestQueuedSeconds), colour: '--chart-warn', format: duration }]
    }
  }, [stats, per])
  const { queue } = stats
  return (
    <>
      <p class='state' data-testid='queue-now'>
        Queue now: <strong>{queue.pending}</strong> pending, <strong>{queue.due}</strong> due{queue.oldestDueSeconds !== null && <>, the oldest due for <strong>{duration(queue.oldestDueSeconds)}</strong></>}.
      </p>
      <div class='charts'>
        <Chart id='chart-ingest' title='Ingest rate' description={`Events accepted per ${per} over ${words}.`} x={charts.x} series={charts.ingest} empty={`No events in ${words}.`} />
        <Chart id='chart-success' title='Delivery success rate' description={`Share of delivery attempts answered 2xx, per ${per}, over ${words}.`} x={charts.x} series={charts.success} yRange={[0, 1]} empty={`No deliveries in ${words}.`} />
        <Chart id='chart-attempts' title='Delivery attempts' description={`Attempts that succeeded and failed per ${per} over ${words}.`} x={charts.x} series={charts.attempts} empty={`No deliveries in ${words}.`} />
        <Chart id='chart-queue' title='Queue depth' description={`Deliveries accepted and not yet settled at the end of each ${per}.`} x={charts.x} series={charts.queued} empty={`No delivery was waiting at the end of any ${per} of ${words}.`} />
        <Chart id='chart-oldest' title='Oldest queued delivery' description='How long the oldest unsettled delivery had waited.' x={charts.x} series={charts.oldest} empty={`No delivery was waiting at the end of any ${per} of ${words}.`} />
      </div>
    </>
  )
}

export function OverviewView ({ client }: { client: LoopClient }) {
  const [window, setWindow] = useState<StatsWindow>('1h')
  const stats = usePolled(`overview:${window}`, (init) => client.GET('/api/stats/overview', { params: { query: { window } }, ...init }), REFRESH_MS)
  return (
    <>
      <WindowToggle value={window} onChange={setWindow} label='Time range' />
      <Loaded polled={stats} what='delivery health'>
        {(data) => <OverviewCharts stats={data} />}
      </Loaded>
    </>
  )
}
