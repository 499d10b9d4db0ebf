export type { Fault, FaultWindow } from './faults.js';
export { type Sandbox, type SandboxOptions, type SandboxPixel, startSandbox } from './server.js';
export type { Channel, StoredEvent, StoredRequest } from './store.js';
