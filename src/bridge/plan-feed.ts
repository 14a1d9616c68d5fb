/**
 * The seam between planning (sync + calendar + rules + overrides → SchoolPlan) and dispatching
 * (SchoolPlan → timers → MQTT). The planner side owns the plans; the dispatcher reads them and is
 * told when one changes.
 */
import type { SchoolPlan } from './school-plan.js';

export interface PlanFeed {
  /** The current plan of every school this instance serves. */
  plans(): Iterable<SchoolPlan>;
  plan(uai: string): SchoolPlan | undefined;
  /** Called with the UAI whenever that school's plan is replaced (or removed: `plan(uai)` is then undefined). */
  subscribe(listener: (uai: string) => void): () => void;
}

/** A PlanFeed backed by a map: the planner side calls `set`/`remove`. */
export class MutablePlanFeed implements PlanFeed {
  private readonly byUai = new Map<string, SchoolPlan>();
  private readonly listeners = new Set<(uai: string) => void>();

  plans(): Iterable<SchoolPlan> {
    return this.byUai.values();
  }

  plan(uai: string): SchoolPlan | undefined {
    return this.byUai.get(uai);
  }

  subscribe(listener: (uai: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  set(plan: SchoolPlan): void {
    const previous = this.byUai.get(plan.uai);
    this.byUai.set(plan.uai, plan);
    if (previous?.hash !== plan.hash || previous.horizon.to !== plan.horizon.to) this.emit(plan.uai);
  }

  remove(uai: string): void {
    if (this.byUai.delete(uai)) this.emit(uai);
  }

  private emit(uai: string): void {
    for (const listener of this.listeners) listener(uai);
  }
}
