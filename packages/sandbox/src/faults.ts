/**
 * A failure the sandbox injects into `POST /v1/events`. Each applies to the next `times` requests
 * (default 1; `'always'` for every request), or to every request for `forMs` from when it was set.
 * `rejectIds` is standing: any request holding one of those ids fails with a 400 that names it.
 *
 * @example
 * sandbox.setFaults([{ status: 503, times: 20 }, { status: 429, retryAfter: 2 }]);
 * sandbox.setFaults([{ status: 503, forMs: 60_000 }]); // a one-minute outage
 * sandbox.setFaults([{ rejectIds: ['order_17'] }]);
 */
export type Fault =
  | ({ status: number; retryAfter?: number | string; body?: unknown } & FaultWindow)
  | ({ reset: true } & FaultWindow)
  | ({ hang: true } & FaultWindow)
  | ({ latencyMs: number } & FaultWindow)
  | { rejectIds: string[] };

/**
 * How long a fault lasts.
 *
 * @example
 * const window: FaultWindow = { times: 3 };
 */
export interface FaultWindow {
  times?: number | 'always';
  forMs?: number;
}

interface ActiveFault {
  fault: Exclude<Fault, { rejectIds: string[] }>;
  remaining: number;
  until?: number;
}

/** The fault queue of one sandbox: consumed in order, one fault per request. */
export class FaultPlan {
  #active: ActiveFault[] = [];
  #rejectIds = new Set<string>();

  constructor(private readonly now: () => number) {}

  set(faults: readonly Fault[]): void {
    this.#active = [];
    this.#rejectIds = new Set();
    this.add(faults);
  }

  add(faults: readonly Fault[]): void {
    for (const fault of faults) {
      if ('rejectIds' in fault) {
        for (const id of fault.rejectIds) this.#rejectIds.add(id);
        continue;
      }
      const remaining = fault.times === 'always' ? Number.POSITIVE_INFINITY : (fault.times ?? 1);
      this.#active.push({
        fault,
        remaining: fault.forMs !== undefined ? Number.POSITIVE_INFINITY : remaining,
        ...(fault.forMs !== undefined ? { until: this.now() + fault.forMs } : {}),
      });
    }
  }

  /** The fault for this request, if any, consuming one use of it. */
  next(): ActiveFault['fault'] | undefined {
    const now = this.now();
    while (this.#active.length > 0) {
      const head = this.#active[0]!;
      if (head.remaining <= 0 || (head.until !== undefined && now >= head.until)) {
        this.#active.shift();
        continue;
      }
      head.remaining--;
      return head.fault;
    }
    return undefined;
  }

  rejected(id: unknown): boolean {
    return typeof id === 'string' && this.#rejectIds.has(id);
  }

  describe(): { pending: Fault[]; rejectIds: string[] } {
    return {
      pending: this.#active.map(({ fault, remaining, until }) => ({
        ...fault,
        ...(until !== undefined
          ? { forMs: Math.max(0, until - this.now()) }
          : { times: Number.isFinite(remaining) ? remaining : 'always' }),
      })) as Fault[],
      rejectIds: [...this.#rejectIds],
    };
  }
}
