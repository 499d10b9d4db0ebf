// A counting sink: the smallest endpoint that does what the Conversions API does for a benchmark.
// It reads every request body, counts the events in it (and how many distinct ids), answers 200,
// and serves the counts at GET /count. Run in its own process so the senders are measured, not it:
//   node servers/counting-sink.mjs [port] [--times]   → prints "listening <port>"
// POST any path: counted. GET /count → {"requests":n,"events":n,"distinct":n,"bytes":n}. POST /reset → zeroes.
// With --times it also keeps when each event id first arrived (Date.now()): GET /times → {"<id>":ms,…}.
import { createServer } from 'node:http';

let requests = 0;
let events = 0;
let bytes = 0;
let ids = new Set();
const keepTimes = process.argv.includes('--times');
let times = new Map();

const server = createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/count') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ requests, events, distinct: ids.size, bytes }));
    return;
  }
  if (req.method === 'GET' && req.url === '/times') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(Object.fromEntries(times)));
    return;
  }
  if (req.method === 'POST' && req.url === '/reset') {
    requests = events = bytes = 0;
    ids = new Set();
    times = new Map();
    res.writeHead(204).end();
    return;
  }
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    requests++;
    bytes += body.length;
    try {
      for (const event of JSON.parse(body.toString('utf8')).events ?? []) {
        events++;
        ids.add(event.id);
        if (keepTimes && !times.has(event.id)) times.set(event.id, Date.now());
      }
    } catch {
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end('{"error":{"message":"body is not JSON"}}');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{}');
  });
});
server.keepAliveTimeout = 60_000;
server.listen(Number(process.argv.slice(2).find((a) => /^\d+$/.test(a)) ?? 0), '127.0.0.1', () => {
  process.stdout.write(`listening ${server.address().port}\n`);
});
process.once('SIGTERM', () => server.close(() => process.exit(0)));
