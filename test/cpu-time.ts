// What a synchronous piece of work costs in CPU time. Tests that bound a computation ("answers at
// once, not in seconds") measure this rather than the wall clock: in a parallel run another test
// process may hold the core, and wall time would charge that wait to the code under test.
// process.cpuUsage counts the whole process (V8's helper threads too), so it can only overstate.
export function cpuMs<T> (work: () => T): { result: T, ms: number } {
  const before = process.cpuUsage()
  const result = work()
  const used = process.cpuUsage(before)
  return { result, ms: (used.user + used.system) / 1000 }
}
