// Runs the Nest example against a fresh sandbox: node dist/main.js
import { startSandbox } from '@chatgpt-ads/sandbox';
import { startExampleNest } from './app.js';

const sandbox = await startSandbox({ port: Number(process.env.SANDBOX_PORT ?? 0) });
const { url } = await startExampleNest(
  { endpoint: sandbox.endpoint, pixelScriptUrl: sandbox.pixelScriptUrl },
  Number(process.env.PORT ?? 3001),
);
console.log(`Nest example ${url}/?oppref=demo-click-1\nsandbox      ${sandbox.url}`);
process.once('SIGINT', () => sandbox.close().then(() => process.exit(0)));
