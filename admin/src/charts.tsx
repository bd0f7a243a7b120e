// Time-series and bar charts drawn with uPlot (canvas), coloured from the console's CSS variables
// so they read in the light and the dark theme (redrawn when the theme changes). Each chart is a
// figure with a heading and a text summary for screen readers, and an empty state instead of an
// empty canvas. `data-points` counts the non-null values drawn (what the end-to-end test checks).
import { useEffect, useRef, useState } from 'preact/hooks'
import uPlot from 'uplot'
import 'uplot/dist/uPlot.min.css'
import { Empty } from './components.tsx'

export interface ChartSeries {
  label: string
  values: ReadonlyArray<number | null>
  /** A CSS variable of styles.css, e.g. `--chart-ok`. */
  colour: string
  /** How a value reads in the legend and the summary. */
  format?: (value: number) => string
}

export interface ChartProps {
  id: string
  title: string
  /** Bucket starts (seconds since the epoch), or for bars the categories' positions. */
  x: readonly number[]
  series: readonly ChartSeries[]
  /** Shown instead of the chart when no series has a value. */
  empty: string
  kind?: 'line' | 'bars'
  /** Bar categories' labels (kind 'bars'), and what they are. */
  categories?: readonly string[]
  xLabel?: string
  yRange?: [number, number]
  /** One sentence on what the chart shows, read before the figures. */
  description: string
}

const css = (name: string) => getComputedStyle(document.documentElement).getPropertyValue(name).trim()

/** Changes when the colour scheme does, so a chart is redrawn in the other theme's colours. */
function useColourScheme (): string {
  const query = typeof window.matchMedia === 'function' ? window.matchMedia('(prefers-color-scheme: dark)') : null
  const [scheme, setScheme] = useState(query?.matches === true ? 'dark' : 'light')
  useEffect(() => {
    if (query === null) return
    const onChange = () => setScheme(query.matches ? 'dark' : 'light')
    query.addEventListener('change', onChange)
    return () => query.removeEventListener('change', onChange)
  }, [query])
  return scheme
}

/** Tick steps for an axis of counts: 1, 2, 5, 10, 20, 50, … */
const countSteps = [0, 1, 2, 3, 4, 5, 6].flatMap((power) => [1, 2, 5].map((step) => step * 10 ** power))

const plain = (value: number) => (Number.isInteger(value) ? String(value) : value.toFixed(1))

function summaryOf (series: readonly ChartSeries[], categories: readonly string[] | undefined): string {
  if (categories !== undefined) {
    // Bars: what each category holds, leaving out the empty ones.
    return categories.map((category, i) => {
      const parts = series.filter((s) => (s.values[i] ?? 0) !== 0).map((s) => `${(s.format ?? plain)(s.values[i] as number)} ${s.label.toLowerCase()}`)
      return parts.length === 0 ? null : `${category}: ${parts.join(', ')}`
    }).filter((part) => part !== null).join('; ')
  }
  return series.map((s) => {
    const values = s.values.filter((v): v is number => v !== null)
    if (values.length === 0) return `${s.label}: no data`
    const format = s.format ?? plain
    const last = values[values.length - 1] as number
    return `${s.label}: latest ${format(last)}, highest ${format(Math.max(...values))}, lowest ${format(Math.min(...values))}`
  }).join('. ')
}

export function Chart ({ id, title, x, series, empty, kind = 'line', categories, xLabel, yRange, description }: ChartProps) {
  const holder = useRef<HTMLDivElement>(null)
  const scheme = useColourScheme()
  const points = series.reduce((n, s) => n + s.values.filter((v) => v !== null).length, 0)
  const drawn = series.some((s) => s.values.some((v) => v !== null && v !== 0))

  useEffect(() => {
    const element = holder.current
    if (element === null || !drawn) return
    const grid = { stroke: css('--chart-grid'), width: 1 }
    const axis = { stroke: css('--fg'), grid, ticks: grid }
    const bars = kind === 'bars' ? uPlot.paths.bars?.({ size: [0.6, 60] }) : undefined
    const options: uPlot.Options = {
      width: Math.max(280, element.clientWidth),
      height: 200,
      scales: {
        x: kind === 'bars' ? { time: false, range: [0.5, x.length + 0.5] } : { time: true },
        y: yRange === undefined ? { range: (_u, _min, max) => [0, Math.max(1, max * 1.1)] } : { range: yRange }
      },
      axes: [
        kind === 'bars' ? { ...axis, values: (_u, ticks) => ticks.map((tick) => (categories?.[tick - 1] ?? '').replace(/ attempts?$/, '')) } : axis,
        // The value axis reads as the values do (25%, 250 ms), after the first series' format;
        // counts, which have none, are ticked in whole numbers (no 0.25 deliveries).
        { ...axis, size: 64, ...(series[0]?.format === undefined ? { incrs: countSteps } : { values: (_u: uPlot, ticks: number[]) => ticks.map(series[0]?.format ?? plain) }) }
      ],
      legend: { show: true },
      cursor: { drag: { x: false, y: false } },
      series: [
        { label: kind === 'bars' ? xLabel ?? 'Category' : 'Time' },
        ...series.map((s) => {
          const colour = css(s.colour)
          const format = s.format ?? plain
          return {
            label: s.label,
            stroke: colour,
            width: 2,
            spanGaps: false,
            value: (_u: uPlot, value: number | null) => (value === null || value === undefined ? '—' : format(value)),
            ...(kind === 'bars' ? { fill: colour, paths: bars, points: { show: false } } : { points: { show: true, size: 4 } })
          }
        })
      ]
    }
    const data = [x.slice(), ...series.map((s) => s.values.slice())] as uPlot.AlignedData
    const plot = new uPlot(options, data, element)
    const resize = new ResizeObserver(() => plot.setSize({ width: Math.max(280, element.clientWidth), height: 200 }))
    resize.observe(element)
    return () => { resize.disconnect(); plot.destroy() }
  }, [x, series, kind, categories, xLabel, yRange, scheme, drawn])

  const summaryId = `${id}-summary`
  return (
    <figure class='chart' data-chart={id} data-points={drawn ? points : 0} aria-labelledby={`${id}-title`}>
      <figcaption>
        <h3 id={`${id}-title`}>{title}</h3>
        <p id={summaryId} class='muted chart-summary'>{description} {drawn && summaryOf(series, kind === 'bars' ? categories : undefined)}</p>
      </figcaption>
      {drawn
        ? <div ref={holder} class='chart-canvas' role='img' aria-labelledby={`${id}-title`} aria-describedby={summaryId} />
        : <Empty>{empty}</Empty>}
    </figure>
  )
}

export type StatsWindow = '1h' | '1d'

/** The 1h/1d toggle the overview and the endpoint panel share: two pressed-or-not buttons. */
export function WindowToggle ({ value, onChange, label }: { value: StatsWindow, onChange: (w: StatsWindow) => void, label: string }) {
  return (
    <div class='toggle' role='group' aria-label={label}>
      {(['1h', '1d'] as const).map((w) => (
        <button key={w} type='button' aria-pressed={value === w} onClick={() => onChange(w)}>{w === '1h' ? 'Last hour' : 'Last day'}</button>
      ))}
    </div>
  )
}

export const windowWords: Record<StatsWindow, string> = { '1h': 'the last hour', '1d': 'the last day' }

/** Bucket starts as uPlot's x values (seconds). */
export const bucketTimes = (buckets: ReadonlyArray<{ at: string }>) => buckets.map((b) => Date.parse(b.at) / 1000)

export const percent = (value: number) => `${(value * 100).toFixed(value === 1 || value === 0 ? 0 : 1)}%`
export const milliseconds = (value: number) => `${Math.round(value)} ms`
/** A wait: milliseconds under a second (a healthy queue's), then seconds, minutes, hours. */
export const duration = (seconds: number) =>
  seconds < 1
    ? `${Math.round(seconds * 1000)} ms`
    : seconds < 10 ? `${seconds.toFixed(1)} s` : seconds < 120 ? `${Math.round(seconds)} s` : seconds < 7200 ? `${Math.round(seconds / 60)} min` : `${(seconds / 3600).toFixed(1)} h`
