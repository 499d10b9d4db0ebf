import type { DeadLetterReason, OutboxRecord } from './outbox.js';
import type { SendOutcome } from './transport.js';
import { MAX_EVENT_AGE_MS } from './validate.js';

/** Events older than 7 days minus this margin are dead-lettered as stale at send time. @example STALE_MARGIN_MS; // 300000 */
export const STALE_MARGIN_MS = 5 * 60_000;

/**
 * The delivery loop's limits: backoff ceilings and how many sends an event gets.
 *
 * @example
 * const policy: RetryPolicy = { baseDelayMs: 500, maxDelayMs: 60_000, maxAttempts: Infinity };
 */
export interface RetryPolicy {
  baseDelayMs: number;
  maxDelayMs: number;
  /** Sends an event may take before a transient failure dead-letters it (`max_attempts`). */
  maxAttempts: number;
}

/**
 * What the delivery loop knows besides the response when it decides: consecutive transient
 * failures so far, a jitter draw in [0, 1), and whether a rejected group is searched here or by the
 * caller (a bisection step asks for `report`).
 *
 * @example
 * const state: DecisionState = { failures: 0, jitter: 0.5, isolate: true };
 */
export interface DecisionState {
  failures: number;
  jitter: number;
  isolate: boolean;
}

/**
 * What to do with a sent group after the endpoint answered.
 *
 * - `ack`: delivered; forget them.
 * - `split`: send each group on its own (the endpoint named culprits, or the body was too large).
 * - `bisect`: one or more events are invalid and unnamed; search the group by halving.
 * - `deadLetter`: give up on these records, with the reason.
 * - `pause`: put `retry` back and wait `delayMs`; dead-letter `exhausted` (out of attempts).
 * - `halt`: the endpoint refused the configuration; put everything back and stop sending.
 * - `report`: leave the group to the caller (a bisection step).
 *
 * @example
 * const decision = decide({ kind: 'delivered', status: 200 }, records, policy, state); // { action: 'ack' }
 */
export type RetryDecision =
  | { action: 'ack' }
  | { action: 'split'; groups: OutboxRecord[][] }
  | { action: 'bisect'; message: string }
  | { action: 'deadLetter'; reason: DeadLetterReason; message: string }
  | {
      action: 'pause';
      delayMs: number;
      retry: OutboxRecord[];
      exhausted: OutboxRecord[];
      /** The endpoint's answer, and the dead-letter message for `exhausted`. */
      message: string;
      exhaustedMessage: string;
      status?: number;
    }
  | { action: 'halt'; status: number; message: string }
  | { action: 'report' };

/**
 * The retry policy: a pure function from one response to the next step. Records carry the attempt
 * count of the send just made.
 *
 * @example
 * decide({ kind: 'too_large', status: 413, message: 'too big' }, [a, b], policy, state);
 * // { action: 'split', groups: [[a], [b]] }
 */
export function decide(
  outcome: SendOutcome,
  records: readonly OutboxRecord[],
  policy: RetryPolicy,
  state: DecisionState,
): RetryDecision {
  switch (outcome.kind) {
    case 'delivered':
      return { action: 'ack' };
    case 'invalid': {
      if (!state.isolate) return { action: 'report' };
      if (records.length === 1) return { action: 'deadLetter', reason: 'invalid', message: outcome.message };
      const named = [...new Set(outcome.eventIndexes.filter((index) => index < records.length))];
      if (named.length === 0) return { action: 'bisect', message: outcome.message };
      // Each named culprit is confirmed alone; the rest go together.
      const suspects = new Set(named);
      const rest = records.filter((_, index) => !suspects.has(index));
      const groups = named.map((index) => [records[index] as OutboxRecord]);
      return { action: 'split', groups: rest.length > 0 ? [...groups, rest] : groups };
    }
    case 'too_large': {
      if (records.length === 1)
        return { action: 'deadLetter', reason: 'too_large', message: outcome.message };
      const middle = Math.ceil(records.length / 2);
      return { action: 'split', groups: [records.slice(0, middle), records.slice(middle)] };
    }
    case 'halt':
      return { action: 'halt', status: outcome.status, message: outcome.message };
    case 'retry': {
      const exhaustedMessage = `not delivered after ${policy.maxAttempts} attempt(s); last answer: ${outcome.message}`;
      const exhausted = records.filter((record) => record.attempts >= policy.maxAttempts);
      if (exhausted.length === records.length)
        return { action: 'deadLetter', reason: 'max_attempts', message: exhaustedMessage };
      const retry =
        exhausted.length === 0 ? [...records] : records.filter((r) => r.attempts < policy.maxAttempts);
      return {
        action: 'pause',
        delayMs: outcome.retryAfterMs ?? backoffMs(policy, state.failures, state.jitter),
        retry,
        exhausted,
        message: outcome.message,
        exhaustedMessage,
        ...(outcome.status !== undefined ? { status: outcome.status } : {}),
      };
    }
  }
}

/**
 * Full-jitter exponential backoff: a draw below `base · 2^failures`, capped at `maxDelayMs`.
 *
 * @example
 * backoffMs({ baseDelayMs: 500, maxDelayMs: 60_000, maxAttempts: Infinity }, 2, 0.5); // 1000
 */
export function backoffMs(policy: RetryPolicy, failures: number, jitter: number): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.min(failures, 30));
  return Math.max(1, Math.floor(jitter * ceiling));
}

/**
 * Whether an event is too old to send: the API refuses events over 7 days old, and a 5-minute
 * margin keeps one in flight from crossing that line.
 *
 * @example
 * isStale(record, Date.now()); // false for an event from today
 */
export function isStale(record: Pick<OutboxRecord, 'timestampMs'>, now: number): boolean {
  return record.timestampMs < now - MAX_EVENT_AGE_MS + STALE_MARGIN_MS;
}
