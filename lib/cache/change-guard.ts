// When a cache whose changes are announced by NOTIFY (plugins/notifications.ts) may keep what it
// read: only while a connection listens (a change made while none does is never announced), and
// only if no change was announced during the read (it may have brought back the state just
// changed: read, then the change commits and is announced). The key cache and the inbound route
// cache keep their entries through one of these.
export class ChangeGuard {
  private generation = 0
  private listening = false

  /** Call as a read starts; the function it returns says whether that read's result may be kept. */
  begin (): () => boolean {
    const generation = this.generation
    return () => this.listening && generation === this.generation
  }

  /** A change was announced (or the cache dropped its entries): reads under way are not kept. */
  changed (): void {
    this.generation++
  }

  /** The listening connection dropped: nothing is kept until `resume`. */
  suspend (): void {
    this.listening = false
    this.generation++
  }

  /** Changes are announced again. */
  resume (): void {
    this.generation++
    this.listening = true
  }
}
