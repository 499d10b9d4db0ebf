export * from './order.js';
export * from './webhook.js';
