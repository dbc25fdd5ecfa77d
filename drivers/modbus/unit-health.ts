/**
 * Per-unit demotion. On a serial bus or behind a serial gateway, one dead unit costs a timeout on every
 * request to it and starves the others; after `demoteAfterFailures` cycles in which a unit never
 * answered, it is set aside for `demoteForMs` and then tried again. An exception answer counts as alive.
 */
export interface UnitState {
  unitId: number;
  consecutiveFailures: number;
  demotedUntil?: number;
}

export class UnitHealth {
  private readonly units = new Map<number, UnitState>();
  private readonly answered = new Set<number>();
  private readonly failed = new Set<number>();

  private readonly demoteAfterFailures: number;
  private readonly demoteForMs: number;

  constructor(demoteAfterFailures: number, demoteForMs: number) {
    this.demoteAfterFailures = demoteAfterFailures;
    this.demoteForMs = demoteForMs;
  }

  isDemoted(unitId: number, now: number): boolean {
    const until = this.units.get(unitId)?.demotedUntil;
    return until !== undefined && now < until;
  }

  demotedUntil(unitId: number): number | undefined {
    return this.units.get(unitId)?.demotedUntil;
  }

  answeredBy(unitId: number): void {
    this.answered.add(unitId);
  }

  failedBy(unitId: number): void {
    this.failed.add(unitId);
  }

  /** Closes a poll cycle; returns the units demoted by it. */
  endCycle(now: number): number[] {
    const demoted: number[] = [];
    for (const unitId of new Set([...this.answered, ...this.failed])) {
      const state = this.state(unitId);
      if (this.answered.has(unitId)) {
        state.consecutiveFailures = 0;
        delete state.demotedUntil;
        continue;
      }
      state.consecutiveFailures++;
      if (state.consecutiveFailures >= this.demoteAfterFailures) {
        state.demotedUntil = now + this.demoteForMs;
        // One more failure after the set-aside period demotes it again at once.
        state.consecutiveFailures = this.demoteAfterFailures - 1;
        demoted.push(unitId);
      }
    }
    this.answered.clear();
    this.failed.clear();
    return demoted;
  }

  snapshot(): UnitState[] {
    return [...this.units.values()].map((u) => ({ ...u }));
  }

  private state(unitId: number): UnitState {
    const state = this.units.get(unitId) ?? { unitId, consecutiveFailures: 0 };
    this.units.set(unitId, state);
    return state;
  }
}
