export { SteppedClock } from './clock.js';
export { canConnect, freePort, listenable } from './ports.js';
export { RedisProcess, redisServerAvailable } from './redis-process.js';
export { demoPort, startDemo } from './demo.js';
export { runCommand } from './process.js';
export type { CommandOptions, CommandResult } from './process.js';
export { recordingFetch } from './recording-fetch.js';
export { until } from './until.js';
export { settingRefusals } from './setting-refusal.js';
export { CHROMIUM, chromiumSkip, launchChromium } from './chromium.js';
export {
  GITHUB_CLAIMS_SUPPORTED,
  KUBE_API_ACCESS_EXPIRATION_SECONDS,
  kubernetesKeyId,
  startGitHubActionsIssuer,
  startKubernetesIssuer,
  startSpireServer,
  writeProjectedToken,
  writeSvid,
} from './workload-issuers.js';
export type {
  GitHubActionsIssuer,
  GitHubActionsIssuerOptions,
  GitHubActionsTokenRequest,
  KubernetesIssuer,
  KubernetesIssuerOptions,
  KubernetesTokenRequest,
  PublishedKeySet,
  SpireServer,
  SpireServerOptions,
  SpireSvidRequest,
  StandIn,
} from './workload-issuers.js';
export { createTestPki } from './pki.js';
export type { CertificatePair, ClientCertificateOptions, TestPki } from './pki.js';
export { x5tOf } from './x5t.js';
export { registerTestTracing } from './tracing.js';
export type { TestTracing } from './tracing.js';
