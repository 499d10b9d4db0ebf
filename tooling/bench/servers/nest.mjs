// The same route in NestJS (decorators applied by hand, as this file is plain JavaScript).
import 'reflect-metadata';
import { ChatgptAdsModule, ChatgptAdsService } from '@chatgpt-ads/nestjs';
import { Controller, Get, Inject, Optional } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';

const [mode, endpoint] = process.argv.slice(2);

class ProductController {
  constructor(ads) {
    this.ads = ads;
  }
  async product() {
    if (this.ads) await this.ads.track({ type: 'contents_viewed', data: { contents: [{ id: 'sku_1' }] } });
    return { id: 'sku_1', name: 'Hand grinder', price: 8900 };
  }
}
Controller()(ProductController);
Get('product')(
  ProductController.prototype,
  'product',
  Object.getOwnPropertyDescriptor(ProductController.prototype, 'product'),
);
Inject(ChatgptAdsService)(ProductController, undefined, 0);
Optional()(ProductController, undefined, 0);

class AppModule {}
const root = {
  module: AppModule,
  imports:
    mode === 'integrated'
      ? [
          ChatgptAdsModule.forRoot({
            pixelId: 'px_bench',
            apiKey: 'sk_bench',
            endpoint,
            logger: { warn() {}, error() {} },
          }),
        ]
      : [],
  controllers: [ProductController],
};
const app = await NestFactory.create(root, { logger: false });
await app.listen(0, '127.0.0.1');
console.log(`listening ${app.getHttpServer().address().port}`);
process.once('SIGTERM', () => app.close().then(() => process.exit(0)));
