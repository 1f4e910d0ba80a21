export { SteppedClock } from './clock.js';
export { canConnect, freePort, listenable } from './ports.js';
export { RedisProcess, redisServerAvailable } from './redis-process.js';
export { demoPort, startDemo } from './demo.js';
export { runCommand } from './process.js';
export type { CommandOptions, CommandResult } from './process.js';
export { until } from './until.js';
export { settingRefusals } from './setting-refusal.js';
export { CHROMIUM, chromiumSkip, launchChromium } from './chromium.js';
