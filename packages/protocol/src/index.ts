export * from './envelope.js';
export * from './errors.js';
export * from './inventory.js';
export * from './messages.js';
export * from './signing.js';
