import { USER_LIST_FIELDS } from '@chatgpt-ads/core/wire';
import { describe, expect, it } from 'vitest';
import { SEND_HELP } from '../src/commands/send.js';
import { FIELDS, recordToInput } from '../src/record.js';

describe('flat records (CSV rows and send flags)', () => {
  it('keeps the field order row ids are hashed in, so a re-import finds the same ids', () => {
    expect(FIELDS).toEqual([
      'type',
      'id',
      'timestamp',
      'amount',
      'currency',
      'email',
      'phone',
      'external_id',
      'first_name',
      'last_name',
      'city',
      'region',
      'postal_code',
      'country',
      'ip',
      'user_agent',
      'oppref',
      'action_source',
      'source_url',
      'custom_event_name',
      'plan_id',
      'consent',
    ]);
  });

  it('reads every user field of the field table, as a column and as a send flag', () => {
    for (const field of USER_LIST_FIELDS) {
      const mapped = recordToInput({ type: 'lead_created', [field.flat]: 'one|two' });
      expect(mapped.ok && mapped.input.user?.[field.input]).toEqual(['one', 'two']);
      expect(SEND_HELP).toContain(`--${field.flat.replaceAll('_', '-')}`);
    }
  });

  it('keeps ids and click ids byte for byte, and says why a record cannot be an input', () => {
    const mapped = recordToInput({
      type: 'order_created',
      id: ' o 1',
      oppref: 'Zw==~',
      amount: '12.50',
      currency: 'USD',
    });
    expect(mapped).toMatchObject({
      ok: true,
      input: { id: ' o 1', oppref: 'Zw==~', data: { amount: 1250, currency: 'USD' } },
    });
    expect(recordToInput({ amount: '1' })).toMatchObject({ ok: false, code: 'no type' });
    expect(recordToInput({ type: 'order_created', amount: '1' })).toMatchObject({
      ok: false,
      code: 'amount without currency',
    });
    expect(recordToInput({ type: 'order_created', timestamp: 'yesterday' })).toMatchObject({
      ok: false,
      code: 'bad timestamp',
    });
    expect(recordToInput({ type: 'order_created', amount: '1.234', currency: 'USD' })).toMatchObject({
      ok: false,
      code: 'bad amount',
    });
  });
});
