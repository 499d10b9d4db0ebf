import 'reflect-metadata';
import { execFile } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type Sandbox, startSandbox } from '@chatgpt-ads/sandbox';
import type { INestApplication } from '@nestjs/common';
import { Controller, Get, HttpCode, Inject, Injectable, Module, Post, Req } from '@nestjs/common';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import type { Request } from 'express';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  CHATGPT_ADS,
  ChatgptAdsModule,
  type ChatgptAdsModuleOptions,
  ChatgptAdsService,
  ConversionId,
  TrackConversion,
} from '../dist/index.js';

let sandbox: Sandbox;
let app: INestApplication | undefined;
beforeAll(async () => {
  sandbox = await startSandbox({ port: 0 });
});
afterAll(() => sandbox.close());
beforeEach(() => sandbox.reset());
afterEach(async () => {
  await app?.close();
  app = undefined;
});

const CONFIG = Symbol('CONFIG');
@Module({
  providers: [{ provide: CONFIG, useFactory: () => ({ pixel: 'px_async', key: 'sk_async' }) }],
  exports: [CONFIG],
})
class ConfigModule {}

interface Order {
  id: string;
  total: number;
}

@Controller('orders')
class OrdersController {
  constructor(@Inject(CHATGPT_ADS) private readonly ads: ChatgptAdsService) {}

  @Post('ok')
  @HttpCode(200)
  @TrackConversion<Order>('order_created', (order) => ({
    id: order.id,
    data: { amount: order.total, currency: 'USD' },
  }))
  ok(): Order {
    return { id: 'order_ok', total: 4200 };
  }

  @Post('fail')
  @TrackConversion('order_created', () => ({ id: 'order_fail' }))
  fail(): Order {
    throw new Error('payment declined');
  }

  @Get('thanks')
  thanks(@ConversionId() eventId: string, @Req() req: Request & { raw?: Request }) {
    // Express platform: the request itself; Fastify platform: its Node request.
    const view = req.chatgptAds ?? req.raw?.chatgptAds;
    return {
      eventId,
      pixel: this.ads.pixel({ type: 'order_created' }),
      same: view?.eventId === eventId,
    };
  }
}

@Injectable()
class FeatureService {
  constructor(@Inject(ChatgptAdsService) readonly ads: ChatgptAdsService) {}
}
@Module({ providers: [FeatureService], exports: [FeatureService] })
class FeatureModule {}

async function boot(
  root: ReturnType<typeof ChatgptAdsModule.forRoot>,
  extra: { imports?: unknown[]; platform?: 'express' | 'fastify' } = {},
) {
  const moduleRef = await Test.createTestingModule({
    imports: [root, ...((extra.imports as never[]) ?? [])],
    controllers: [OrdersController],
  }).compile();
  app =
    extra.platform === 'fastify'
      ? moduleRef.createNestApplication(new FastifyAdapter(), { logger: false })
      : moduleRef.createNestApplication({ logger: false });
  await app.listen(0, '127.0.0.1');
  return `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
}

const options = (): ChatgptAdsModuleOptions => ({
  pixelId: 'px_nest',
  apiKey: 'sk_nest',
  endpoint: sandbox.endpoint,
  consent: { mode: 'opt-out' },
  batch: { flushIntervalMs: 3_600_000 },
  logger: { warn() {}, error() {} },
});

describe('@chatgpt-ads/nestjs', () => {
  it('forRootAsync builds the client from a config factory', async () => {
    await boot(
      ChatgptAdsModule.forRootAsync({
        imports: [ConfigModule],
        inject: [CONFIG],
        useFactory: (config: { pixel: string; key: string }) => ({
          ...options(),
          pixelId: config.pixel,
          apiKey: config.key,
        }),
      }),
    );
    const service = app!.get(ChatgptAdsService);
    await service.track(
      { type: 'lead_created', id: 'async_1' },
      { consent: 'granted', sourceUrl: 'https://s.example/' },
    );
    await app!.close();
    app = undefined;
    expect(sandbox.events().map((e) => [e.pixelId, e.event.id])).toEqual([['px_async', 'async_1']]);
  });

  for (const platform of ['express', 'fastify'] as const)
    it(`@TrackConversion sends when the handler succeeds and never when it throws (${platform} platform)`, async () => {
      const url = await boot(ChatgptAdsModule.forRoot(options()), { platform });
      expect((await fetch(`${url}/orders/ok?ref=1`, { method: 'POST' })).status).toBe(200);
      expect((await fetch(`${url}/orders/fail`, { method: 'POST' })).status).toBe(500);
      await app!.close();
      app = undefined;
      expect(sandbox.events().map((e) => e.event)).toEqual([
        expect.objectContaining({
          id: 'order_ok',
          data: { type: 'contents', amount: 4200, currency: 'USD' },
          source_url: expect.stringMatching(/\/orders\/ok$/),
        }),
      ]);
    });

  for (const platform of ['express', 'fastify'] as const)
    it(`@ConversionId gives the request event id, the one the pixel measures (${platform} platform)`, async () => {
      const url = await boot(ChatgptAdsModule.forRoot(options()), { platform });
      const body = await (await fetch(`${url}/orders/thanks`)).json();
      expect(body.same).toBe(true);
      expect(body.pixel).toContain(`"event_id":"${body.eventId}"`);
    });

  it('the service works outside a request with an explicit context, and skips without consent', async () => {
    await boot(ChatgptAdsModule.forRoot({ ...options(), consent: { mode: 'opt-in' } }));
    const service = app!.get(ChatgptAdsService);
    expect(service.request).toBeUndefined();
    expect(await service.track({ type: 'lead_created', id: 'worker_1' })).toMatchObject({
      status: 'skipped',
      reason: 'consent',
    });
    expect(
      await service.track(
        { type: 'lead_created', id: 'worker_2' },
        { consent: 'granted', sourceUrl: 'https://s.example/' },
      ),
    ).toMatchObject({
      status: 'queued',
    });
    await app!.close();
    app = undefined;
    expect(sandbox.events().map((e) => e.event.id)).toEqual(['worker_2']);
  });

  it('requestStore: false keeps attribution through the request and refuses to guess without one', async () => {
    const url = await boot(ChatgptAdsModule.forRoot({ ...options(), requestStore: false }));
    // @TrackConversion passes the request: the landing's click id reaches the event.
    const landing = await fetch(`${url}/orders/ok?oppref=gAAAAB-store-off`, { method: 'POST' });
    expect(landing.headers.get('set-cookie')).toMatch(/^__oppref=gAAAAB-store-off;/);
    // A handler asking the service for the pixel without the request fails loudly, not blank.
    expect((await fetch(`${url}/orders/thanks`)).status).toBe(500);
    const service = app!.get(ChatgptAdsService);
    await expect(service.track({ type: 'lead_created' })).rejects.toThrow(/requestStore is false/);
    expect(() => service.eventId()).toThrow(/requestStore is false/);
    expect(
      await service.track(
        { type: 'lead_created', id: 'worker_3' },
        { consent: 'granted', sourceUrl: 'https://s.example/' },
      ),
    ).toMatchObject({ status: 'queued' });
    await app!.close();
    app = undefined;
    expect(sandbox.events().map((e) => [e.event.id, e.event.oppref])).toEqual([
      ['order_ok', 'gAAAAB-store-off'],
      ['worker_3', undefined],
    ]);
    await expect(
      boot(ChatgptAdsModule.forRoot({ ...options(), requestStore: 'no' as never })),
    ).rejects.toThrow(/requestStore/);
  });

  it('isGlobal makes the service injectable in modules that do not import it; the token and the class are one instance', async () => {
    await boot(ChatgptAdsModule.forRoot({ ...options(), isGlobal: true }), { imports: [FeatureModule] });
    const feature = app!.get(FeatureService);
    expect(feature.ads).toBe(app!.get(ChatgptAdsService));
    expect(app!.get(CHATGPT_ADS)).toBe(app!.get(ChatgptAdsService));
  });

  it('shutdown delivers what is queued', async () => {
    const url = await boot(ChatgptAdsModule.forRoot(options()));
    for (let i = 0; i < 3; i++) await fetch(`${url}/orders/ok`, { method: 'POST' });
    expect(sandbox.events()).toHaveLength(0);
    await app!.close();
    app = undefined;
    // The same id three times: the queue sends it once.
    expect(sandbox.events().map((e) => e.event.id)).toEqual(['order_ok']);
  });

  it('leaves no open handles: a real process exits by itself after app.close()', async () => {
    const fixture = join(import.meta.dirname, 'fixtures', 'close-app.mjs');
    const { stdout } = await promisify(execFile)(process.execPath, [fixture, sandbox.endpoint], {
      timeout: 20_000,
    });
    expect(stdout).toContain('tracked queued');
    expect(sandbox.events().map((e) => e.event.id)).toEqual(['lead_nest_close']);
  });
});
