import { AsyncLocalStorage } from 'node:async_hooks';
import {
  type AdapterOptions,
  adapterClient,
  type ConsentState,
  type ConversionInput,
  type Conversions,
  ConversionsConfigError,
  type EventType,
  optionChecks,
  type PixelEventInput,
  type RequestContext,
  type RequestConversions,
  type TrackResult,
} from '@chatgpt-ads/core';
import { appendSetCookies, fromNodeRequest } from '@chatgpt-ads/core/node';
import {
  applyDecorators,
  type CallHandler,
  ConfigurableModuleBuilder,
  createParamDecorator,
  type ExecutionContext,
  Inject,
  Injectable,
  type MiddlewareConsumer,
  Module,
  type NestInterceptor,
  type NestMiddleware,
  type OnApplicationShutdown,
  type Provider,
  SetMetadata,
  UseInterceptors,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { NextFunction, Request, Response } from 'express';
import { from, mergeMap, type Observable } from 'rxjs';

declare global {
  namespace Express {
    interface Request {
      /** ChatGPT Ads for this request, set by the module's middleware. */
      chatgptAds: RequestConversions;
    }
  }
}

/**
 * Options of {@link ChatgptAdsModule}: the core client's options (or `conversions`, a client you
 * made), plus the app's own consent answer and the CSP nonce.
 *
 * @example
 * ChatgptAdsModule.forRoot({ pixelId: 'px_123', apiKey: process.env.CHATGPT_ADS_API_KEY!, isGlobal: true });
 */
export type ChatgptAdsModuleOptions = AdapterOptions<{
  consentFromRequest?: (req: Request) => ConsentState | undefined;
  nonce?: (req: Request, res: Response) => string | undefined;
  /** Time `onApplicationShutdown` gives queued conversions. Default 10 s. */
  shutdownTimeoutMs?: number;
  /**
   * Keep each request's view in an `AsyncLocalStorage`, so `ChatgptAdsService` finds the request
   * without `req`. Default true. `false` saves what an active `AsyncLocalStorage` costs every
   * promise on Node 20 and 22; the service then needs the request (`@Req()`) or a context.
   */
  requestStore?: boolean;
}>;

/**
 * Injection token of the core `Conversions` client the module creates.
 *
 * @example
 * constructor(@Inject(CHATGPT_ADS_CLIENT) private readonly conversions: Conversions) {}
 */
export const CHATGPT_ADS_CLIENT = Symbol.for('@chatgpt-ads/nestjs:client');

/**
 * Injection token of {@link ChatgptAdsService}, for code that injects by token rather than by class.
 *
 * @example
 * constructor(@Inject(CHATGPT_ADS) private readonly ads: ChatgptAdsService) {}
 */
export const CHATGPT_ADS = Symbol.for('@chatgpt-ads/nestjs:service');

const TRACK_CONVERSION = Symbol.for('@chatgpt-ads/nestjs:track-conversion');

const { ConfigurableModuleClass, MODULE_OPTIONS_TOKEN } =
  new ConfigurableModuleBuilder<ChatgptAdsModuleOptions>()
    .setClassMethodName('forRoot')
    .setExtras({ isGlobal: false }, (definition, extras) => ({
      ...definition,
      global: extras.isGlobal,
      providers: definition.providers?.map(withKeyHidden),
    }))
    .build();

/**
 * Where the middleware keeps the current request's view, so the service finds it without `req`.
 * AsyncLocalStorage rather than request-scoped providers: singletons stay singletons, and the view
 * follows the request through awaits and into any provider the handler calls.
 */
@Injectable()
export class ChatgptAdsRequestStore extends AsyncLocalStorage<RequestConversions> {}

/**
 * Sends conversions. Inside a request it uses that request's click id, consent, IP, user agent and
 * page URL; outside one (a queue worker, a cron job) pass a context yourself.
 *
 * @example
 * await this.ads.track({ type: 'lead_created', user: { email } });
 */
@Injectable()
export class ChatgptAdsService implements OnApplicationShutdown {
  // Only what the service needs of the options: holding them all would hold the API key.
  private readonly shutdownTimeoutMs: number;
  private readonly storeOff: boolean;

  constructor(
    @Inject(CHATGPT_ADS_CLIENT) readonly conversions: Conversions,
    @Inject(ChatgptAdsRequestStore) private readonly store: ChatgptAdsRequestStore,
    @Inject(MODULE_OPTIONS_TOKEN) options: ChatgptAdsModuleOptions,
  ) {
    this.shutdownTimeoutMs = options.shutdownTimeoutMs ?? 10_000;
    this.storeOff = options.requestStore === false;
  }

  /**
   * The current request's view (`undefined` outside a request). With `requestStore: false` there is
   * no current request to find: reading it throws, saying to use `req.chatgptAds`.
   */
  get request(): RequestConversions | undefined {
    return this.#current('request');
  }

  /**
   * Tracks a conversion. `from` is a request (`@Req()`), a context, or omitted inside a request.
   * Inside a request, `input.id` defaults to the request's event id.
   */
  track(input: ConversionInput, from?: Request | RequestContext): Promise<TrackResult> {
    const fromRequest = viewOf(from);
    if (fromRequest) return fromRequest.track(input);
    if (from && !isRequest(from)) return this.conversions.track(input, from as RequestContext);
    // A request the middleware did not see (excluded route, another transport): as outside one.
    if (from && this.storeOff) return this.conversions.track(input);
    let current: RequestConversions | undefined;
    try {
      current = this.#current('track(input)');
    } catch (error) {
      return Promise.reject(error);
    }
    return current ? current.track(input) : this.conversions.track(input);
  }

  /** The current request's event id, for the page's pixel. */
  eventId(): string | undefined {
    return this.#current('eventId()')?.eventId;
  }

  /** The pixel snippet for the current request (empty outside a request). */
  pixel(event?: PixelEventInput): string {
    return this.#current('pixel()')?.pixel(event) ?? '';
  }

  // With the store off the service cannot tell a request from a cron job: it says so instead of
  // sending a conversion without its click id or rendering a pixel without the server's event id.
  #current(use: string): RequestConversions | undefined {
    if (this.storeOff)
      throw new ConversionsConfigError(
        `ChatgptAdsService.${use} cannot find the request: requestStore is false. Pass the request ` +
          "(ads.track(input, req)), use req.chatgptAds or @ConversionId(), or a context outside a request (ads.track(input, { consent: 'granted' }))",
      );
    return this.store.getStore();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.conversions.shutdown({ timeoutMs: this.shutdownTimeoutMs });
  }
}

/**
 * Captures oppref and consent on every request, inside the request store. Nest runs middleware on
 * the Express platform's request and response, and on the Fastify platform's Node request and
 * response (`req.raw` / `reply.raw` in a handler).
 */
@Injectable()
export class ChatgptAdsMiddleware implements NestMiddleware {
  constructor(
    @Inject(CHATGPT_ADS_CLIENT) private readonly conversions: Conversions,
    @Inject(ChatgptAdsRequestStore) private readonly store: ChatgptAdsRequestStore,
    @Inject(MODULE_OPTIONS_TOKEN) private readonly options: ChatgptAdsModuleOptions,
  ) {}

  use(req: Request, res: Response, next: NextFunction): void {
    const consent = this.options.consentFromRequest?.(req);
    const nonceOf = this.options.nonce ?? defaultNonce;
    const ads = this.conversions.forRequest(fromNodeRequest(req, { trustProxy: trustsProxy(req) }), {
      nonce: () => nonceOf(req, res),
      ...(consent ? { consent } : {}),
    });
    appendSetCookies(res, ads.setCookies);
    req.chatgptAds = ads;
    if (this.options.requestStore === false) next();
    else this.store.run(ads, next);
  }
}

// Express's `trust proxy` setting, when the platform is Express, decides whether forwarded
// headers count; elsewhere they do not.
function trustsProxy(req: Request): boolean {
  const trust = (req as { app?: { get?(name: string): unknown } }).app?.get?.('trust proxy fn') as
    | ((address: string | undefined, hop: number) => boolean)
    | undefined;
  return trust?.(req.socket?.remoteAddress, 0) === true;
}

function defaultNonce(_req: Request, res: Response): string | undefined {
  const locals = (res as { locals?: Record<string, unknown> }).locals;
  const nonce = locals?.cspNonce ?? locals?.nonce;
  return typeof nonce === 'string' ? nonce : undefined;
}

interface TrackMetadata {
  type: EventType;
  mapper?: (result: unknown, req: Request) => Omit<ConversionInput, 'type'> | undefined;
}

/** Sends the conversion of a `@TrackConversion` handler once it has succeeded. */
@Injectable()
export class TrackConversionInterceptor implements NestInterceptor {
  constructor(
    @Inject(Reflector) private readonly reflector: Reflector,
    @Inject(ChatgptAdsService) private readonly ads: ChatgptAdsService,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const meta = this.reflector.get<TrackMetadata | undefined>(TRACK_CONVERSION, context.getHandler());
    if (!meta) return next.handle();
    const req = context.switchToHttp().getRequest<Request>();
    // Only a value reaching the response is a conversion; an error skips this entirely.
    return next.handle().pipe(
      mergeMap((result) => {
        const input = meta.mapper ? meta.mapper(result, req) : {};
        if (input === undefined) return from([result]);
        return from(this.ads.track({ ...input, type: meta.type } as ConversionInput, req).then(() => result));
      }),
    );
  }
}

/**
 * Sends a conversion when the handler succeeds; `mapper` turns the handler's result into the event's
 * data (return `undefined` to send nothing). Never sends when the handler throws.
 *
 * @example
 * @Post('orders')
 * @TrackConversion('order_created', (order: Order) => ({ id: order.id, data: { amount: order.total, currency: 'USD' } }))
 * create(@Body() body: CreateOrder) { return this.orders.create(body); }
 */
export function TrackConversion<T = unknown>(
  type: EventType,
  mapper?: (result: T, req: Request) => Omit<ConversionInput, 'type'> | undefined,
): MethodDecorator {
  return applyDecorators(
    SetMetadata(TRACK_CONVERSION, { type, mapper } as TrackMetadata),
    UseInterceptors(TrackConversionInterceptor),
  );
}

/**
 * The current request's conversion id, to hand to the page's pixel.
 *
 * @example
 * @Get('thanks')
 * thanks(@ConversionId() eventId: string) { return { eventId }; }
 */
export const ConversionId = createParamDecorator((_data: unknown, context: ExecutionContext) => {
  return viewOf(context.switchToHttp().getRequest())?.eventId;
});

// The view the middleware attached: on the Express platform to the request handlers get, on the
// Fastify platform (middleware runs on Node's own request) to that request's `raw`.
function viewOf(from: unknown): RequestConversions | undefined {
  const request = from as
    | { chatgptAds?: RequestConversions; raw?: { chatgptAds?: RequestConversions } }
    | undefined;
  return request?.chatgptAds ?? request?.raw?.chatgptAds;
}

function isRequest(from: object): boolean {
  return 'headers' in from && ('raw' in from || 'socket' in from);
}

// The options stay in Nest's container, where anyone may print them: the container holds a copy
// whose key is not enumerable (the caller's own object is left as it is).
function withKeyHidden(provider: Provider): Provider {
  if (typeof provider !== 'object' || provider === null || !('provide' in provider)) return provider;
  if (provider.provide !== MODULE_OPTIONS_TOKEN) return provider;
  if ('useValue' in provider) return { ...provider, useValue: hideKey(provider.useValue) };
  if ('useFactory' in provider) {
    const factory = provider.useFactory;
    return { ...provider, useFactory: async (...args: unknown[]) => hideKey(await factory(...args)) };
  }
  return provider;
}

function hideKey<T>(options: T): T {
  if (typeof options !== 'object' || options === null || !('apiKey' in options)) return options;
  const copy = { ...options };
  Object.defineProperty(copy, 'apiKey', { value: options.apiKey, enumerable: false });
  return copy;
}

// The client given, or one made here with the module's options (the module's own are checked with
// the client's and kept out of them).
function clientFrom(options: ChatgptAdsModuleOptions): Conversions {
  return adapterClient(options, MODULE_RULES, process.env).conversions;
}

const MODULE_RULES = {
  consentFromRequest: optionChecks.function,
  nonce: optionChecks.function,
  requestStore: optionChecks.boolean,
  shutdownTimeoutMs: (value: unknown, path: string) => {
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0)
      throw new ConversionsConfigError(`${path} must be a number of milliseconds (0 or more)`);
  },
  isGlobal: null,
};

/**
 * The module: `forRoot(options)` or `forRootAsync({ imports, inject, useFactory })`, with
 * `isGlobal` to make the service injectable everywhere. Its middleware runs on every route.
 *
 * @example
 * @Module({
 *   imports: [
 *     ChatgptAdsModule.forRootAsync({
 *       isGlobal: true,
 *       imports: [ConfigModule],
 *       inject: [ConfigService],
 *       useFactory: (config: ConfigService) => ({
 *         pixelId: config.getOrThrow('CHATGPT_ADS_PIXEL_ID'),
 *         apiKey: config.getOrThrow('CHATGPT_ADS_API_KEY'),
 *       }),
 *     }),
 *   ],
 * })
 * export class AppModule {}
 */
@Module({
  providers: [
    { provide: CHATGPT_ADS_CLIENT, useFactory: clientFrom, inject: [MODULE_OPTIONS_TOKEN] },
    ChatgptAdsRequestStore,
    ChatgptAdsService,
    { provide: CHATGPT_ADS, useExisting: ChatgptAdsService },
    TrackConversionInterceptor,
  ],
  exports: [
    CHATGPT_ADS_CLIENT,
    CHATGPT_ADS,
    ChatgptAdsService,
    TrackConversionInterceptor,
    ChatgptAdsRequestStore,
  ],
})
export class ChatgptAdsModule extends ConfigurableModuleClass {
  configure(consumer: MiddlewareConsumer): void {
    // Express 5's router needs a named wildcard to match "/" as well.
    consumer.apply(ChatgptAdsMiddleware).forRoutes('{*splat}');
  }
}

export { MODULE_OPTIONS_TOKEN as CHATGPT_ADS_OPTIONS };
