// autocannon ships no type declarations (and @types/autocannon is not a dependency): this is the
// part of its API the bench uses, checked against autocannon 8's README and lib/.
declare module 'autocannon' {
  export interface Request {
    method?: string
    path?: string
    headers?: Record<string, string>
    body?: string
    /** Called before every request; returns the request to send. */
    setupRequest?: (request: Request, context: Record<string, unknown>) => Request
  }

  export interface Options {
    url: string
    connections?: number
    /** Seconds. */
    duration?: number
    pipelining?: number
    timeout?: number
    requests?: Request[]
  }

  export interface Histogram {
    average: number
    mean: number
    stddev: number
    min: number
    max: number
    total: number
    p50: number
    p90: number
    p99: number
  }

  export interface Result {
    requests: Histogram
    latency: Histogram
    throughput: Histogram
    errors: number
    timeouts: number
    non2xx: number
    /** Answers by HTTP status, e.g. `{ '200': { count: 9000 }, '429': { count: 12 } }`. */
    statusCodeStats: Record<string, { count: number }>
    '2xx': number
    duration: number
  }

  export default function autocannon (options: Options): Promise<Result>
}
