// The conformance harness for Nest, shared by the Nest 12 run (this package) and the Nest 11 run
// (tooling/nest11). It imports the module from the built dist, as users do.
import 'reflect-metadata';
import type { AddressInfo } from 'node:net';
import { Controller, Get, HttpCode, Inject, Post, Redirect } from '@nestjs/common';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import type { ConformanceHarness } from '@tooling/conformance';
import {
  CHATGPT_ADS_CLIENT,
  CHATGPT_ADS_OPTIONS,
  ChatgptAdsModule,
  ChatgptAdsService,
} from '../dist/index.js';

// The request views the adapter handed to handlers, for the secret-leak check.
const views: unknown[] = [];

@Controller()
class ConformanceController {
  constructor(@Inject(ChatgptAdsService) private readonly ads: ChatgptAdsService) {}

  @Get('landing')
  landing() {
    return 'landing';
  }

  @Get('redirect')
  @Redirect('/landing', 302)
  redirect() {}

  // No `req` passed: the service finds the request through its AsyncLocalStorage.
  @Post('lead')
  @HttpCode(200)
  async lead() {
    const result = await this.ads.track({ type: 'lead_created' });
    views.push(this.ads.request);
    return {
      status: result.status,
      id: result.status === 'queued' ? result.id : undefined,
      eventId: this.ads.eventId(),
      pixel: this.ads.pixel({ type: 'lead_created' }),
    };
  }
}

export function nestHarness(name: string, platform: 'express' | 'fastify' = 'express'): ConformanceHarness {
  return {
    name,
    async start(options) {
      const moduleRef = await Test.createTestingModule({
        imports: [ChatgptAdsModule.forRoot(options)],
        controllers: [ConformanceController],
      }).compile();
      const app =
        platform === 'fastify'
          ? moduleRef.createNestApplication(new FastifyAdapter(), { logger: false })
          : moduleRef.createNestApplication({ logger: false });
      await app.listen(0, '127.0.0.1');
      const { port } = app.getHttpServer().address() as AddressInfo;
      return {
        url: `http://127.0.0.1:${port}`,
        close: () => app.close(),
        exposed: () => [
          app.get(ChatgptAdsService),
          app.get(CHATGPT_ADS_OPTIONS),
          app.get(CHATGPT_ADS_CLIENT),
          ...views,
          moduleRef,
        ],
      };
    },
  };
}
