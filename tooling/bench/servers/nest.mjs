// NestJS 12 on Express (decorators applied by hand, as this file is plain JavaScript):
//   node nest.mjs <baseline|empty|integrated|spin> <pageview|conversion> <endpoint>
// NEST_REQUEST_STORE=off: the module's requestStore is false (the handler passes its request).
// The handler passes its request either way, so the two differ only by the store.
import 'reflect-metadata';
import { ChatgptAdsModule, ChatgptAdsService } from '@chatgpt-ads/nestjs';
import { Controller, Get, HttpCode, Inject, Optional, Post, Req } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { empty, HAND_COOKIE, integrated, lands, listening, nextOrder, options, product } from './shared.mjs';

class ShopController {
  constructor(ads) {
    this.ads = ads;
  }
  product() {
    return product;
  }
  async order(req) {
    const order = nextOrder();
    if (this.ads) await this.ads.track(order.event, req);
    return { id: order.id };
  }
}
const method = (name) => Object.getOwnPropertyDescriptor(ShopController.prototype, name);
Controller()(ShopController);
Get('product')(ShopController.prototype, 'product', method('product'));
Post('orders')(ShopController.prototype, 'order', method('order'));
HttpCode(200)(ShopController.prototype, 'order', method('order'));
Req()(ShopController.prototype, 'order', 0);
Inject(ChatgptAdsService)(ShopController, undefined, 0);
Optional()(ShopController, undefined, 0);

class AppModule {
  configure(consumer) {
    if (empty)
      consumer
        .apply((req, res, next) => {
          if (lands(req.url)) res.setHeader('set-cookie', HAND_COOKIE);
          next();
        })
        .forRoutes('{*splat}');
  }
}
const root = {
  module: AppModule,
  imports: integrated
    ? [
        ChatgptAdsModule.forRoot({
          ...options,
          ...(process.env.NEST_REQUEST_STORE === 'off' ? { requestStore: false } : {}),
        }),
      ]
    : [],
  controllers: [ShopController],
};
const app = await NestFactory.create(root, { logger: false });
await app.listen(0, '127.0.0.1');
listening(app.getHttpServer().address().port);
process.once('SIGTERM', () => app.close().then(() => process.exit(0)));
