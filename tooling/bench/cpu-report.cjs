// Preloaded into a benchmarked server (`node --require ./cpu-report.cjs …`): answers the message
// 'cpu' on its IPC channel with process.cpuUsage(), so the bench can read the server's own CPU time
// around a measured window without sending it any request of its own.
if (process.send) {
  process.on('message', (message) => {
    if (message === 'cpu') process.send({ cpu: process.cpuUsage() });
  });
  process.channel?.unref?.();
}
