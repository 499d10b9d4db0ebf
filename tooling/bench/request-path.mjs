// 1. Request-path overhead per adapter, each scenario against the same framework route without the
// integration, in alternating rounds within one run (autocannon on loopback):
//   - page views (the middleware runs, the route never calls track()): a landing (GET
//     /product?oppref=…, the click id stored in a cookie), a returning ad visitor (the click id
//     already in its cookie) and a visitor with no click id at all (most of a site's traffic);
//   - conversion: POST /orders, one track() of an order with an email and a phone per request.
// Beside req/s, the server's own CPU µs per request (process.cpuUsage() over the measured window,
// read over IPC so no request of ours is counted, divided by the requests autocannon completed):
// steadier than throughput on shared cores. Conversions go to the counting sink, its own process.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createConversions } from '@chatgpt-ads/core';
import autocannon from 'autocannon';
import { against, cpuOf, heading, median, save, smoke, startChild, stopChild, table } from './lib.mjs';
import { coreMicrosPerEvent } from './pipeline.mjs';
import { makeOrder } from './servers/order.mjs';

const FRAMEWORKS = [
  ['Express 5', 'servers/express.mjs'],
  ['Fastify 5', 'servers/fastify.mjs'],
  ['Hono 4 (@hono/node-server)', 'servers/hono.mjs'],
  ['NestJS 12', 'servers/nest.mjs'],
  // The same server with the module's requestStore off: what its AsyncLocalStorage costs on this Node.
  ['NestJS 12 (requestStore: false)', 'servers/nest.mjs', { NEST_REQUEST_STORE: 'off' }],
];
const SCENARIOS = {
  // A landing from an ad: the click id is in the URL and the response stores it (Set-Cookie).
  pageview: { path: '/product?oppref=gAAAAB-bench', method: 'GET', cookie: '__oaiq_consent=true' },
  // Every later page of that visit: the click id is already in its cookie, nothing to write.
  returning: { path: '/product', method: 'GET', cookie: '__oaiq_consent=true; __oppref=gAAAAB-bench' },
  // A visitor who did not come from an ad, most of a site's traffic: no click id anywhere.
  visitor: { path: '/product', method: 'GET', cookie: '__oaiq_consent=true; theme=dark' },
  conversion: { path: '/orders', method: 'POST', cookie: '__oaiq_consent=true; __oppref=gAAAAB-bench' },
};
const GOALS = {
  pageview: { ratio: 0.97, cpu: 0.03 },
  returning: { ratio: 0.97, cpu: 0.03 },
  visitor: { ratio: 0.97, cpu: 0.03 },
  conversion: { ratio: 0.85, cpu: null },
};
// Reruns of one part: --rounds=<n> (default 3; 1 in smoke), --scenario=pageview|returning|visitor|conversion,
// --framework=<name> (a part of the row's name, e.g. hono).
const flag = (name) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
const rounds = Number(flag('rounds') ?? (smoke ? 1 : 3));
const only = flag('scenario');
const frameworkFilter = flag('framework')?.toLowerCase();
const seconds = smoke ? 1 : 4;
const warmup = smoke ? 0.5 : 1;
const connections = 50;
const sinkScript = fileURLToPath(new URL('./servers/counting-sink.mjs', import.meta.url));
const reporter = fileURLToPath(new URL('./cpu-report.cjs', import.meta.url));

function load(url, { method, cookie }, duration, overallRate) {
  return autocannon({
    url,
    method,
    connections,
    duration,
    ...(overallRate ? { overallRate } : {}),
    headers: { cookie, 'user-agent': 'Mozilla/5.0 (autocannon)' },
  });
}

/**
 * Alternating rounds of baseline and integrated at saturation; medians of req/s and CPU µs per
 * request. With `fixedRate`, then the same rounds at one fixed rate for both (half the slower one's
 * saturated rate): at saturation a server that answers fewer requests per second also batches fewer
 * responses per write and per event-loop turn, which raises its CPU per request for reasons not its
 * own; at an equal rate that effect is gone.
 */
async function compare(label, targets, request, { fixedRate = false } = {}) {
  for (const mode of ['baseline', 'integrated']) await load(targets[mode].url, request, warmup);
  const samples = { baseline: [], integrated: [] };
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? ['baseline', 'integrated'] : ['integrated', 'baseline'];
    for (const mode of order) {
      const before = await cpuOf(targets[mode].child);
      const result = await load(targets[mode].url, request, seconds);
      const cpu = (await cpuOf(targets[mode].child)) - before;
      if (result.non2xx > 0 || result.errors > 0)
        throw new Error(`${label} ${mode}: ${result.non2xx} non-2xx, ${result.errors} errors`);
      samples[mode].push({
        rps: result.requests.average,
        cpuUs: cpu / result.requests.total,
        p99: result.latency.p99,
        requests: result.requests.total,
      });
    }
  }
  const summary = (mode) => ({
    rps: median(samples[mode].map((s) => s.rps)),
    cpuUs: median(samples[mode].map((s) => s.cpuUs)),
    p99: median(samples[mode].map((s) => s.p99)),
    requests: samples[mode].reduce((sum, s) => sum + s.requests, 0),
  });
  const result = { baseline: summary('baseline'), integrated: summary('integrated'), samples };
  if (!fixedRate) return result;
  const rate = Math.max(100, Math.round(Math.min(result.baseline.rps, result.integrated.rps) / 2));
  // An `empty` target (the framework plus one middleware that only writes a landing's cookie by hand)
  // or a `spin` one (the baseline plus our in-loop µs of plain work) joins the rotation: what that
  // costs there is the framework's or the machine's, the rest is ours.
  const modes = Object.keys(targets);
  for (const mode of modes.filter((m) => m !== 'baseline' && m !== 'integrated'))
    await load(targets[mode].url, request, warmup);
  const atRate = Object.fromEntries(modes.map((mode) => [mode, []]));
  for (let round = 0; round < rounds; round++) {
    const order = modes.map((_, index) => modes[(index + round) % modes.length]);
    for (const mode of order) {
      const before = await cpuOf(targets[mode].child);
      const run = await load(targets[mode].url, request, seconds, rate);
      const cpu = (await cpuOf(targets[mode].child)) - before;
      if (run.non2xx > 0 || run.errors > 0)
        throw new Error(`${label} ${mode} at ${rate} req/s: ${run.non2xx} non-2xx, ${run.errors} errors`);
      atRate[mode].push(cpu / run.requests.total);
    }
  }
  result.fixedRate = {
    rate,
    baseline: median(atRate.baseline),
    integrated: median(atRate.integrated),
    ...(atRate.empty ? { empty: median(atRate.empty) } : {}),
    ...(atRate.spin ? { spin: median(atRate.spin) } : {}),
    samples: atRate,
  };
  return result;
}

function row(
  framework,
  scenario,
  result,
  { pipelineUs, loopUs, sinkEvents, goalRatio = GOALS[scenario].ratio },
) {
  const { baseline: b, integrated: i } = result;
  const ratio = i.rps / b.rps;
  const added = i.cpuUs - b.cpuUs;
  const cpuShare = added / b.cpuUs;
  const cpuGoal = GOALS[scenario].cpu;
  return {
    framework,
    scenario:
      {
        pageview: 'page view (landing)',
        returning: 'page view (returning)',
        visitor: 'page view (no click id)',
      }[scenario] ?? 'conversion',
    'baseline req/s': Math.round(b.rps),
    'integrated req/s': Math.round(i.rps),
    'req/s ratio': goalRatio === null ? ratio.toFixed(3) : against(ratio.toFixed(3), ratio >= goalRatio),
    'ratio goal': goalRatio === null ? '—' : `≥ ${goalRatio}`,
    'baseline CPU µs/req': Number(b.cpuUs.toFixed(1)),
    'integrated CPU µs/req': Number(i.cpuUs.toFixed(1)),
    'µs we add': Number(added.toFixed(1)),
    'CPU added':
      cpuGoal === null
        ? `${(cpuShare * 100).toFixed(1)} %`
        : against(`${(cpuShare * 100).toFixed(1)} %`, cpuShare <= cpuGoal),
    'CPU goal': cpuGoal === null ? '—' : `≤ +${cpuGoal * 100} %`,
    'pipeline µs/event': pipelineUs === undefined ? '—' : Number(pipelineUs.toFixed(1)),
    'our CPU µs per conversion in a loop': loopUs === undefined ? '—' : Number(loopUs.toFixed(1)),
    ...(result.fixedRate ? fixedRateColumns(result.fixedRate, cpuGoal) : {}),
    'events at sink': sinkEvents ?? '—',
    'baseline p99 ms': b.p99,
    'integrated p99 ms': i.p99,
  };
}

// The same-rate comparison: CPU per request of each server, what we add, and what ours adds beyond
// a hand-written middleware (page views) or beyond the same µs of plain work (conversions).
function fixedRateColumns({ rate, baseline, integrated, empty, spin }, cpuGoal) {
  const added = integrated - baseline;
  const share = `${((added / baseline) * 100).toFixed(1)} %`;
  return {
    'fixed rate req/s': rate,
    'CPU µs/req at fixed rate (baseline / integrated)': `${baseline.toFixed(1)} / ${integrated.toFixed(1)}`,
    'µs we add at fixed rate': Number(added.toFixed(1)),
    'CPU added at fixed rate':
      cpuGoal === null ? share : against(share, integrated <= baseline * (1 + cpuGoal)),
    // Every row has every column (— where it does not apply), so one table holds them all.
    'µs a hand-written middleware costs (framework)':
      empty === undefined ? '—' : Number((empty - baseline).toFixed(1)),
    'µs ours beyond it': empty === undefined ? '—' : Number((integrated - empty).toFixed(1)),
    'µs the same work in plain JS adds (machine)':
      spin === undefined ? '—' : Number((spin - baseline).toFixed(1)),
    'µs ours beyond the same work': spin === undefined ? '—' : Number((integrated - spin).toFixed(1)),
  };
}

/**
 * Our CPU µs per conversion outside any server: the same orders tracked in a loop of this process
 * with the context a conversion request gives (build, hash, serialize, queue, and delivery to the
 * sink), user + system time over all of it. The spin server then does this much plain work per
 * request, which shows what the same µs cost inside a server on this machine.
 */
async function loopMicrosPerConversion(endpoint) {
  const count = smoke ? 2_000 : 40_000;
  const context = {
    consent: 'granted',
    oppref: 'gAAAAB-bench',
    ip: '127.0.0.1',
    userAgent: 'Mozilla/5.0 (autocannon)',
    sourceUrl: 'http://127.0.0.1/orders',
  };
  const measure = async (prefix) => {
    const client = createConversions({
      pixelId: 'px_bench',
      apiKey: 'sk_bench',
      endpoint,
      logger: { warn() {}, error() {} },
    });
    const before = process.cpuUsage();
    for (let n = 1; n <= count; n++) await client.track(makeOrder(n, prefix).event, context);
    await client.shutdown({ timeoutMs: 30_000 });
    const { user, system } = process.cpuUsage(before);
    if (client.stats().delivered !== count)
      throw new Error('the in-loop conversions did not all reach the sink');
    return (user + system) / count;
  };
  await measure('warm');
  return median([await measure('a'), await measure('b'), await measure('c')]);
}

async function sinkCount(sink) {
  return (await (await fetch(`http://127.0.0.1:${sink.port}/count`)).json()).events;
}

// Next.js: the built example app under `next start`. Conversion: /api/orders (withConversions +
// track) against /api/baseline-orders (the same handler without it). Page views: /product through
// the app's proxy with its oppref capture against /product-baseline (the same proxy, nonce and CSP,
// without the capture). The app's consent answer is its own demo_consent cookie.
// Its page views are the requests of SCENARIOS, with the app's consent cookie for the pixel's.
const nextPageView = ({ path, cookie }) => ({
  baseline: path.replace('/product', '/product-baseline'),
  integrated: path,
  request: { method: 'GET', cookie: cookie.replace('__oaiq_consent=true', 'demo_consent=granted') },
});
const NEXT_PAIRS = {
  pageview: nextPageView(SCENARIOS.pageview),
  returning: nextPageView(SCENARIOS.returning),
  visitor: nextPageView(SCENARIOS.visitor),
  conversion: {
    baseline: '/api/baseline-orders',
    integrated: '/api/orders',
    request: { method: 'POST', cookie: 'demo_consent=granted; __oppref=gAAAAB-bench' },
  },
};

async function nextRow(sink, endpoint, scenario) {
  const appDir = fileURLToPath(new URL('../../apps/example-next/', import.meta.url));
  const port = 3900 + Math.floor(Math.random() * 90);
  const child = spawn(
    process.execPath,
    [
      '--require',
      reporter,
      `${appDir}node_modules/next/dist/bin/next`,
      'start',
      '-p',
      String(port),
      '-H',
      '127.0.0.1',
    ],
    {
      cwd: appDir,
      env: {
        ...process.env,
        NEXT_TELEMETRY_DISABLED: '1',
        CHATGPT_ADS_PIXEL_ID: 'px_bench',
        CHATGPT_ADS_API_KEY: 'sk_bench',
        CHATGPT_ADS_ENDPOINT: endpoint,
        CHATGPT_ADS_PIXEL_SCRIPT: `http://127.0.0.1:${sink.port}/sdk/oaiq.min.js`,
      },
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    },
  );
  const base = `http://127.0.0.1:${port}`;
  const pair = NEXT_PAIRS[scenario];
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${base}${pair.baseline}`, { method: pair.request.method })).ok) break;
    } catch {}
    if (i > 300) throw new Error('next start did not come up (build apps/example-next first)');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await fetch(`http://127.0.0.1:${sink.port}/reset`, { method: 'POST' });
  const result = await compare(
    `Next.js ${scenario}`,
    {
      baseline: { child, url: `${base}${pair.baseline}` },
      integrated: { child, url: `${base}${pair.integrated}` },
    },
    pair.request,
    { fixedRate: scenario !== 'conversion' },
  );
  const sinkEvents = await sinkCount(sink);
  await stopChild(child);
  return { result, sinkEvents };
}

export async function run({ pipelineUs } = {}) {
  heading(
    `Request-path overhead (autocannon, ${connections} connections, ${rounds} alternating round(s) of ${seconds} s per mode, medians)`,
  );
  const sink = await startChild(sinkScript, []);
  const endpoint = `http://127.0.0.1:${sink.port}/v1/events`;
  const perEvent = pipelineUs ?? (await coreMicrosPerEvent());
  const loopUs = !only || only === 'conversion' ? await loopMicrosPerConversion(endpoint) : undefined;
  const rows = [];
  const raw = [];
  for (const scenario of ['pageview', 'returning', 'visitor', 'conversion'].filter(
    (s) => !only || s === only,
  )) {
    for (const [framework, script, env = {}] of FRAMEWORKS.filter(
      ([name]) => !frameworkFilter || name.toLowerCase().includes(frameworkFilter),
    )) {
      const path = fileURLToPath(new URL(script, import.meta.url));
      const route = scenario === 'conversion' ? 'conversion' : 'pageview';
      const start = (mode, extra = {}) =>
        startChild(path, [mode, route, endpoint], { ...env, ...extra }, { cpu: true });
      const servers = {
        baseline: await start('baseline'),
        integrated: await start('integrated'),
        ...(scenario === 'conversion'
          ? { spin: await start('spin', { SPIN_US: String(loopUs) }) }
          : { empty: await start('empty') }),
      };
      await fetch(`http://127.0.0.1:${sink.port}/reset`, { method: 'POST' });
      const targets = Object.fromEntries(
        Object.entries(servers).map(([mode, s]) => [
          mode,
          { child: s.child, url: `http://127.0.0.1:${s.port}${SCENARIOS[scenario].path}` },
        ]),
      );
      // Conversions too: at saturation a slower server batches fewer writes per turn (see compare).
      const result = await compare(`${framework} ${scenario}`, targets, SCENARIOS[scenario], {
        fixedRate: true,
      });
      const sinkEvents = await sinkCount(sink);
      for (const server of Object.values(servers)) await stopChild(server.child);
      if (scenario === 'conversion' && sinkEvents === 0)
        throw new Error(`${framework}: no event reached the sink`);
      rows.push(
        row(
          framework,
          scenario,
          result,
          scenario === 'conversion' ? { pipelineUs: perEvent, loopUs, sinkEvents } : {},
        ),
      );
      raw.push({ framework, scenario, ...result });
    }
    if (!frameworkFilter || 'next.js'.includes(frameworkFilter)) {
      const next = await nextRow(sink, endpoint, scenario);
      const conversion = scenario === 'conversion';
      rows.push(
        row(
          conversion
            ? 'Next.js 16 (route handler, `next start`; no email/phone)'
            : 'Next.js 16 (proxy, `next start`)',
          scenario,
          next.result,
          conversion ? { pipelineUs: perEvent, sinkEvents: next.sinkEvents, goalRatio: null } : {},
        ),
      );
      raw.push({ framework: 'Next.js 16', scenario, ...next.result });
    }
  }
  await stopChild(sink.child);
  table(rows);
  console.log(
    '\n(Next.js: one `next start` server serves both sides; its page views compare /product with and without ' +
      "the proxy's capture. Its /api/orders tracks an order without email or phone.)",
  );
  save(only ? `request-path-${only}` : 'request-path', { rows, raw, pipelineUs: perEvent, rounds, seconds });
  return rows;
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
