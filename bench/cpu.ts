// CPU time over a stretch of the bench: per process (pidusage: user + system time, every thread)
// and for the whole machine (os.cpus()), so a figure can say where the cores went: Loop, the
// receiver, or the rest (PostgreSQL). Where a process cannot be read the reading is null and the
// bench prints none.
import { cpus } from 'node:os'
import pidusage from 'pidusage'

export interface CpuReading { wallMs: number, machineBusyMs: number, byPid: Map<number, number> }

/** Milliseconds the machine's cores have spent on anything but idling, all cores together. */
function machineBusyMs (): number {
  return cpus().reduce((sum, { times }) => sum + times.user + times.nice + times.sys + times.irq, 0)
}

/** A reading now of the machine and of `pids`; null where a process cannot be read. */
export async function readCpu (pids: readonly number[]): Promise<CpuReading | null> {
  try {
    const stats = await pidusage([...pids])
    return { wallMs: performance.now(), machineBusyMs: machineBusyMs(), byPid: new Map(pids.map((pid) => [pid, stats[pid]?.ctime ?? Number.NaN])) }
  } catch {
    return null
  }
}

/** What was spent between two readings of the same pids. */
export function cpuSpent (from: CpuReading | null, to: CpuReading | null): CpuReading | null {
  if (from === null || to === null) return null
  return {
    wallMs: to.wallMs - from.wallMs,
    machineBusyMs: to.machineBusyMs - from.machineBusyMs,
    byPid: new Map([...to.byPid].map(([pid, ms]) => [pid, ms - (from.byPid.get(pid) ?? Number.NaN)]))
  }
}
