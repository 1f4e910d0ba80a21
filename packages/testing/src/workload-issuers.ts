/**
 * Real HTTP stand-ins, on port 0, for the workload-identity issuers Tessera trusts: the Kubernetes API server
 * (projected service-account tokens), a SPIRE server (SPIFFE bundle endpoint and JWT-SVIDs) and GitHub Actions'
 * OIDC provider. Each mints tokens in its system's exact format and serves keys as that system does; the sources
 * followed are named in each module.
 */
export type { PublishedKeySet, StandIn } from './workload-issuers/stand-in.js';
export {
  KUBE_API_ACCESS_EXPIRATION_SECONDS,
  kubernetesKeyId,
  startKubernetesIssuer,
  writeProjectedToken,
} from './workload-issuers/kubernetes.js';
export type { KubernetesIssuer, KubernetesIssuerOptions, KubernetesTokenRequest } from './workload-issuers/kubernetes.js';
export { startSpireServer, writeSvid } from './workload-issuers/spire.js';
export type { SpireServer, SpireServerOptions, SpireSvidRequest } from './workload-issuers/spire.js';
export { GITHUB_CLAIMS_SUPPORTED, startGitHubActionsIssuer } from './workload-issuers/github-actions.js';
export type {
  GitHubActionsIssuer,
  GitHubActionsIssuerOptions,
  GitHubActionsTokenRequest,
} from './workload-issuers/github-actions.js';
