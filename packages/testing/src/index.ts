export { canConnect, freePort, listenable } from './ports.js';
export { RedisProcess, redisServerAvailable } from './redis-process.js';
export { demoPort, startDemo } from './demo.js';
