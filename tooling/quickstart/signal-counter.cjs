// Preloaded into the Fastify and Hono examples: counts the SIGTERM and SIGINT listeners the process
// registers over its life, and prints them as it exits. once() and prependOnceListener() go through
// on() and prependListener(), so each listener counts once.
const counts = { SIGTERM: 0, SIGINT: 0 };
for (const method of ['on', 'addListener', 'prependListener']) {
  const original = process[method];
  process[method] = function (event, listener) {
    if (event in counts) counts[event]++;
    return original.call(this, event, listener);
  };
}
process.on('exit', () =>
  process.stderr.write(`signal listeners: SIGTERM ${counts.SIGTERM}, SIGINT ${counts.SIGINT}\n`),
);
