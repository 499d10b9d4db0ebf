import { describe, expect, it } from 'vitest';
import type { OutboxRecord } from './outbox.js';
import { backoffMs, type DecisionState, decide, isStale, type RetryPolicy } from './retry-policy.js';
import type { SendOutcome } from './transport.js';
import { MAX_EVENT_AGE_MS } from './validate.js';

const record = (id: string, attempts = 1): OutboxRecord => ({
  key: JSON.stringify(['px', 'lead_created', id]),
  id,
  body: `{"id":"${id}"}`,
  bytes: 12,
  timestampMs: 0,
  acceptedAt: 0,
  attempts,
});
const [a, b, c, d] = ['a', 'b', 'c', 'd'].map((id) => record(id));
const four = [a!, b!, c!, d!];
const policy: RetryPolicy = { baseDelayMs: 500, maxDelayMs: 60_000, maxAttempts: 5 };
const state: DecisionState = { failures: 0, jitter: 0.5, isolate: true };

const delivered: SendOutcome = { kind: 'delivered', status: 200 };
const INVALID = 'events[1].data.currency: unknown currency';
const invalid = (eventIndexes: number[] = []): SendOutcome => ({
  kind: 'invalid',
  status: 400,
  message: INVALID,
  eventIndexes,
});
const tooLarge: SendOutcome = { kind: 'too_large', status: 413, message: 'Payload Too Large' };
const halt: SendOutcome = { kind: 'halt', status: 401, message: 'invalid api key' };
const unavailable: SendOutcome = { kind: 'retry', status: 503, message: 'Service Unavailable' };
const throttled: SendOutcome = {
  kind: 'retry',
  status: 429,
  message: 'Too Many Requests',
  retryAfterMs: 7_000,
};

describe('the retry policy', () => {
  // outcome, records, state overrides → the decision
  const table: Array<[string, SendOutcome, OutboxRecord[], Partial<DecisionState>, unknown]> = [
    ['2xx acks the group', delivered, four, {}, { action: 'ack' }],
    [
      '400 naming events splits them out one by one, the rest together',
      invalid([1, 3]),
      four,
      {},
      { action: 'split', groups: [[b], [d], [a, c]] },
    ],
    [
      '400 naming an index twice or past the group names each real culprit once',
      invalid([2, 2, 9]),
      four,
      {},
      { action: 'split', groups: [[c], [a, b, d]] },
    ],
    ['400 naming nobody bisects', invalid(), four, {}, { action: 'bisect', message: INVALID }],
    [
      '400 on one event dead-letters it as invalid',
      invalid([0]),
      [a!],
      {},
      { action: 'deadLetter', reason: 'invalid', message: INVALID },
    ],
    [
      '400 inside a bisection step is left to the search',
      invalid(),
      four,
      { isolate: false },
      { action: 'report' },
    ],
    [
      '413 halves the group',
      tooLarge,
      four,
      {},
      {
        action: 'split',
        groups: [
          [a, b],
          [c, d],
        ],
      },
    ],
    [
      '413 halves an odd group with the larger half first',
      tooLarge,
      [a!, b!, c!],
      {},
      { action: 'split', groups: [[a, b], [c]] },
    ],
    [
      '413 on one event dead-letters it as too large',
      tooLarge,
      [a!],
      {},
      { action: 'deadLetter', reason: 'too_large', message: 'Payload Too Large' },
    ],
    ['401/403 halts', halt, four, {}, { action: 'halt', status: 401, message: 'invalid api key' }],
    [
      '5xx pauses with jittered backoff',
      unavailable,
      four,
      { failures: 2, jitter: 0.5 },
      {
        action: 'pause',
        delayMs: 1_000,
        retry: four,
        exhausted: [],
        status: 503,
        message: 'Service Unavailable',
        exhaustedMessage: 'not delivered after 5 attempt(s); last answer: Service Unavailable',
      },
    ],
    [
      '429 with Retry-After pauses for exactly that long',
      throttled,
      four,
      { failures: 9 },
      expect.objectContaining({ action: 'pause', delayMs: 7_000, retry: four, exhausted: [] }),
    ],
  ];

  for (const [name, outcome, records, overrides, expected] of table) {
    it(name, () => {
      expect(decide(outcome, records, policy, { ...state, ...overrides })).toEqual(expected);
    });
  }

  it('dead-letters the events out of attempts and retries the others (so attempts counts)', () => {
    const tired = record('tired', 5);
    const fresh = record('fresh', 2);
    expect(decide(unavailable, [tired, fresh], policy, state)).toMatchObject({
      action: 'pause',
      retry: [fresh],
      exhausted: [tired],
    });
    expect(decide(unavailable, [tired], policy, state)).toEqual({
      action: 'deadLetter',
      reason: 'max_attempts',
      message: 'not delivered after 5 attempt(s); last answer: Service Unavailable',
    });
  });

  it('never runs out of attempts by default', () => {
    const unlimited = { ...policy, maxAttempts: Number.POSITIVE_INFINITY };
    expect(decide(unavailable, [record('old', 1e9)], unlimited, state)).toMatchObject({ action: 'pause' });
  });

  it('is pure: the records it is given are not changed', () => {
    const records = four.map((r) => ({ ...r }));
    const copy = structuredClone(records);
    decide(invalid([1]), records, policy, state);
    decide(tooLarge, records, policy, state);
    decide(unavailable, records, policy, state);
    expect(records).toEqual(copy);
  });
});

describe('backoff', () => {
  it('doubles its ceiling per failure up to maxDelayMs, and never waits less than 1 ms', () => {
    const ceilings = [0, 1, 2, 3, 10, 40].map((failures) => backoffMs(policy, failures, 0.999_999));
    expect(ceilings).toEqual([499, 999, 1_999, 3_999, 59_999, 59_999]);
    expect(backoffMs(policy, 0, 0)).toBe(1);
  });
});

describe('staleness', () => {
  it('calls an event stale 5 minutes before the API would refuse it', () => {
    const now = 10 * MAX_EVENT_AGE_MS;
    expect(isStale({ timestampMs: now - MAX_EVENT_AGE_MS + 5 * 60_000 }, now)).toBe(false);
    expect(isStale({ timestampMs: now - MAX_EVENT_AGE_MS + 5 * 60_000 - 1 }, now)).toBe(true);
  });
});
