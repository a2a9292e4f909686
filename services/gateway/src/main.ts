import { markHeapAtomically } from '@berth/service-kit';
import { startServer } from './server.js';

markHeapAtomically();
await startServer();
