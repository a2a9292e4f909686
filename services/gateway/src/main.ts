import { ConfigError } from '@berth/service-kit';
import { startServer } from './server.js';

try {
  await startServer();
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  console.error(`gateway: ${err.message}`);
  process.exit(1);
}
