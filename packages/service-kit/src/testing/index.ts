export * from './free-port.js';
export * from './server-process.js';
export * from './nats-server-bin.js';
export * from './node-image.js';
export * from './service-process.js';
export * from './nats-permissions.js';
export * from './wait-for.js';
export * from './port-range.js';
