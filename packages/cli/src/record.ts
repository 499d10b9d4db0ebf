// A flat record (a CSV row, or `send`'s flags) → a conversion input. `send` and `import` share it,
// and the user fields come from core's field table, so a new identifier needs no change here.
import {
  type ActionSource,
  type ConversionInput,
  type EventType,
  MoneyError,
  toMinorUnits,
  type UserInput,
} from '@chatgpt-ads/core';
import { USER_LIST_FIELDS, USER_SCALAR_FIELDS } from '@chatgpt-ads/core/wire';

const USER_SCALARS = USER_SCALAR_FIELDS.filter(
  (field) => field.flat && field.input && field.input !== 'androidAdvertisingId',
);

/**
 * The fields a record may have, in a fixed order: a row without an id gets one from a hash of its
 * values in this order, so the order must never change (a re-import would send those rows again).
 */
export const FIELDS = [
  'type',
  'id',
  'timestamp',
  'amount',
  'currency',
  ...USER_LIST_FIELDS.map((field) => field.flat),
  ...USER_SCALARS.map((field) => field.flat as string),
  'oppref',
  'action_source',
  'source_url',
  'custom_event_name',
  'plan_id',
  'consent',
] as const;

/** A record field name. @example const field: Field = 'postal_code'; */
export type Field = string;

/** A record: each field's value, lists as arrays (or `|`-separated in one string). */
export type FlatRecord = Partial<Record<Field, string | readonly string[]>>;

/** The input, or why the record cannot be one (`code` is what summaries count by). */
export type RecordOutcome =
  | { ok: true; input: ConversionInput }
  | { ok: false; code: string; reason: string };

/** Parses a timestamp: ISO 8601, epoch milliseconds, or epoch seconds; `undefined` when it cannot. */
export function readTimestamp(value: string): number | undefined {
  const trimmed = value.trim();
  if (/^\d{13}$/.test(trimmed)) return Number(trimmed);
  if (/^\d{10}$/.test(trimmed)) return Number(trimmed) * 1000;
  const parsed = Date.parse(trimmed);
  return Number.isNaN(parsed) ? undefined : parsed;
}

// Values are taken as given (an id or a click id is kept byte for byte); core normalizes identifiers.
const one = (value: string | readonly string[] | undefined): string | undefined =>
  (typeof value === 'string' ? value : value?.[0]) || undefined;
const many = (value: string | readonly string[] | undefined): string[] =>
  (typeof value === 'string' ? value.split('|') : (value ?? [])).map((s) => s.trim()).filter(Boolean);

/**
 * Maps a flat record to a conversion input. The event id is the record's own, else absent (the
 * caller decides: `send` lets core make one, `import` hashes the row).
 *
 * @example
 * recordToInput({ type: 'order_created', id: 'o1', amount: '12.50', currency: 'USD', email: 'a@b.c|d@e.f' });
 */
export function recordToInput(
  record: FlatRecord,
  defaults: { type?: string; actionSource?: string } = {},
): RecordOutcome {
  const type = one(record.type) ?? defaults.type;
  if (!type) return { ok: false, code: 'no type', reason: 'no event type (add a type column or --type)' };
  const timestamp = one(record.timestamp);
  const timestampMs = timestamp === undefined ? undefined : readTimestamp(timestamp);
  if (timestamp !== undefined && timestampMs === undefined)
    return {
      ok: false,
      code: 'bad timestamp',
      reason: `cannot read timestamp "${timestamp}": use ISO 8601 or epoch milliseconds`,
    };
  const currency = one(record.currency);
  const rawAmount = one(record.amount);
  let amount: number | undefined;
  if (rawAmount !== undefined) {
    if (!currency) return { ok: false, code: 'amount without currency', reason: 'amount without currency' };
    try {
      amount = toMinorUnits(rawAmount, currency);
    } catch (error) {
      if (!(error instanceof MoneyError)) throw error;
      return { ok: false, code: 'bad amount', reason: error.message };
    }
  }
  const user: UserInput = {};
  for (const field of USER_LIST_FIELDS) {
    const values = many(record[field.flat]);
    if (values.length > 0) user[field.input] = values;
  }
  for (const field of USER_SCALARS) {
    const value = one(record[field.flat as string]);
    if (value) user[field.input as 'ipAddress' | 'userAgent'] = value;
  }
  const id = one(record.id);
  const sourceUrl = one(record.source_url);
  const customEventName = one(record.custom_event_name);
  const oppref = one(record.oppref);
  const planId = one(record.plan_id);
  const input: ConversionInput = {
    type: type as EventType,
    ...(id ? { id } : {}),
    actionSource: (one(record.action_source) ??
      defaults.actionSource ??
      (sourceUrl ? 'web' : 'offline')) as ActionSource,
    data: {
      ...(amount !== undefined ? { amount } : {}),
      ...(currency ? { currency } : {}),
      ...(planId ? { planId } : {}),
    },
    user,
    ...(timestampMs !== undefined ? { timestampMs } : {}),
    ...(customEventName ? { customEventName } : {}),
    ...(oppref ? { oppref } : {}),
    ...(sourceUrl ? { sourceUrl } : {}),
  };
  return { ok: true, input };
}
