// The demo store's lead and checkout flows in NestJS: the module configured from a config
// provider (forRootAsync), the service in handlers, and @TrackConversion on a JSON endpoint.
import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { ChatgptAdsModule, ChatgptAdsService, TrackConversion } from '@chatgpt-ads/nestjs';
import type { INestApplication } from '@nestjs/common';
import { Body, Controller, Get, Header, HttpCode, Inject, Module, Post, Req, Res } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { Request, Response } from 'express';
import { localPath, sameOrigin } from './consent-guard.js';

export const EXAMPLE_CONFIG = Symbol('EXAMPLE_CONFIG');
export interface ExampleConfig {
  endpoint: string;
  pixelScriptUrl: string;
}

const GRINDER = { sku: 'grinder', name: 'Hand grinder', price: 8900 };

function consentOf(req: Request): 'granted' | 'denied' | undefined {
  const match = /(?:^|;\s*)demo_consent=(granted|denied)\s*(?:;|$)/.exec(req.get('cookie') ?? '');
  return match?.[1] as 'granted' | 'denied' | undefined;
}

function page(
  ads: ChatgptAdsService,
  title: string,
  body: string,
  event?: Parameters<ChatgptAdsService['pixel']>[0],
): string {
  const consent = ads.request?.consent.state ?? 'unknown';
  const banner =
    consent === 'unknown'
      ? `<form method="post" action="/consent" class="banner"><p>Cookies for ad measurement?</p>
         <input type="hidden" name="back" value="">
         <button name="choice" value="accept">Accept</button> <button name="choice" value="reject">Reject</button></form>
         <script>document.querySelector('input[name=back]').value = location.pathname + location.search;</script>`
      : '';
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title} · Northwind (Nest)</title>
  <link rel="icon" href="data:,">${ads.pixel(event)}
  <style>body{font:15px system-ui;margin:40px auto;max-width:720px;color:#1f2328}form{display:grid;gap:10px;max-width:360px}
  .banner{position:fixed;bottom:20px;left:20px;right:20px;background:#1f2328;color:#fff;padding:14px;border-radius:10px;max-width:none}</style>
  </head><body><h1>${title}</h1>${body}${banner}</body></html>`;
}

@Controller()
class ShopController {
  constructor(@Inject(ChatgptAdsService) private readonly ads: ChatgptAdsService) {}

  @Get()
  @Header('content-type', 'text/html')
  home() {
    return page(
      this.ads,
      'Northwind Coffee',
      '<p><a href="/lead">Wholesale enquiry</a> · <a href="/checkout">Buy a grinder</a></p>',
    );
  }

  @Post('consent')
  consent(
    @Body() body: { choice?: string; back?: string } | undefined,
    @Req() req: Request,
    @Res() res: Response,
  ) {
    // Another site must not be able to grant consent on the visitor's behalf.
    if (
      !sameOrigin({
        origin: req.get('origin'),
        host: req.get('host'),
        secFetchSite: req.get('sec-fetch-site'),
      })
    ) {
      res.status(403).type('text').send('The consent form must be sent from this site.');
      return;
    }
    const choice = body?.choice === 'accept' ? 'granted' : 'denied';
    res.cookie('demo_consent', choice, { path: '/', maxAge: 365 * 86_400_000, sameSite: 'lax' });
    if (choice === 'denied') for (const name of ['__oppref', '__obref']) res.clearCookie(name, { path: '/' });
    res.redirect(303, localPath(body?.back));
  }

  @Get('lead')
  @Header('content-type', 'text/html')
  leadForm() {
    return page(
      this.ads,
      'Wholesale enquiry',
      `<form method="post" action="/lead"><input name="email" value="alex@example.com"><button data-testid="lead-submit">Send</button></form>`,
    );
  }

  @Post('lead')
  @HttpCode(200)
  @Header('content-type', 'text/html')
  async lead(@Body() body: { email?: string }) {
    const id = `lead_${randomUUID().slice(0, 8)}`;
    await this.ads.track({ type: 'lead_created', id, user: { email: body.email } });
    return page(this.ads, 'Thanks', `<p>Reference <code data-testid="conversion-id">${id}</code></p>`, {
      type: 'lead_created',
      id,
    });
  }

  @Get('checkout')
  @Header('content-type', 'text/html')
  checkoutForm() {
    return page(
      this.ads,
      'Checkout',
      `<p>${GRINDER.name}: $89.00</p><form method="post" action="/checkout"><input name="email" value="jordan@example.com"><button data-testid="checkout-submit">Pay</button></form>`,
    );
  }

  @Post('checkout')
  @HttpCode(200)
  @Header('content-type', 'text/html')
  async checkout(@Body() body: { email?: string }) {
    const id = `order_${randomUUID().slice(0, 8)}`;
    const data = {
      amount: GRINDER.price,
      currency: 'USD',
      contents: [{ id: GRINDER.sku, name: GRINDER.name, quantity: 1, amount: GRINDER.price }],
    };
    await this.ads.track({ type: 'order_created', id, data, user: { email: body.email } });
    return page(this.ads, 'Order placed', `<p>Reference <code data-testid="conversion-id">${id}</code></p>`, {
      type: 'order_created',
      id,
      data,
    });
  }

  // The same purchase as a JSON API: the decorator sends the conversion once the handler succeeded.
  @Post('api/orders')
  @HttpCode(201)
  @TrackConversion<{ id: string; total: number }>('order_created', (order) => ({
    id: order.id,
    data: { amount: order.total, currency: 'USD' },
  }))
  createOrder() {
    return { id: `order_${randomUUID().slice(0, 8)}`, total: GRINDER.price };
  }
}

export function appModule(config: ExampleConfig) {
  @Module({ providers: [{ provide: EXAMPLE_CONFIG, useValue: config }], exports: [EXAMPLE_CONFIG] })
  class ConfigModule {}

  @Module({
    imports: [
      ChatgptAdsModule.forRootAsync({
        isGlobal: true,
        imports: [ConfigModule],
        inject: [EXAMPLE_CONFIG],
        useFactory: (c: ExampleConfig) => ({
          pixelId: 'px_example_nest',
          apiKey: 'sk_example_nest',
          endpoint: c.endpoint,
          pixel: { scriptUrl: c.pixelScriptUrl },
          consentFromRequest: consentOf,
        }),
      }),
    ],
    controllers: [ShopController],
  })
  class AppModule {}
  return AppModule;
}

export async function startExampleNest(
  config: ExampleConfig,
  port = 3001,
  // An example is for this machine: other hosts reach it only when asked for (HOST=0.0.0.0).
  host = process.env.HOST ?? '127.0.0.1',
): Promise<{ app: INestApplication; url: string; address: AddressInfo }> {
  const app = await NestFactory.create(appModule(config), { logger: ['error', 'warn'] });
  app.enableShutdownHooks();
  await app.listen(port, host);
  const address = app.getHttpServer().address() as AddressInfo;
  return { app, url: `http://localhost:${address.port}`, address };
}
