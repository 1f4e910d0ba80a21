/**
 * A stand-in for GitHub Actions' OIDC provider (https://token.actions.githubusercontent.com), as GitHub's docs
 * ("OpenID Connect" and "OpenID Connect reference", github/docs content/actions/concepts/security/openid-connect.md
 * and content/actions/reference/security/oidc.md) and the tokens and documents it serves show:
 *
 * - `GET /.well-known/openid-configuration`: issuer, jwks_uri (`/.well-known/jwks`), subject_types_supported
 *   ["public","pairwise"], response_types_supported ["id_token"], claims_supported (the list GitHub publishes, with
 *   the claims added since: ref_protected, runner_environment, check_run_id), id_token_signing_alg_values_supported
 *   ["RS256"], scopes_supported ["openid"].
 * - `GET /.well-known/jwks`: RSA keys written `{"n","kty":"RSA","kid","alg":"RS256","e","use":"sig","x5c":[DER],
 *   "x5t"}`: each key has a certificate; x5t is base64url of the certificate's SHA-1 and kid the same digest in
 *   upper-case hex (the published key 78167F72…/eBZ_cn3s… shows both).
 * - Tokens: header `{"typ":"JWT","alg":"RS256","x5t":…,"kid":…}`; claims in GitHub's order: jti (UUID), sub,
 *   environment (when the job has one), aud (a string; default `https://github.com/OWNER`), ref, sha, repository,
 *   repository_owner, repository_owner_id, run_id, run_number, run_attempt, repository_visibility, repository_id,
 *   actor_id, actor, workflow, head_ref, base_ref, event_name, ref_protected, ref_type, workflow_ref, workflow_sha,
 *   job_workflow_ref, job_workflow_sha, runner_environment, check_run_id, iss, nbf, exp, iat; every custom value a
 *   string (ids and counters too). Lifetime as in GitHub's tokens: nbf = iat − 600, exp = iat + 300.
 *   sub: `repo:OWNER/REPO:environment:ENV` for a job with an environment, else `repo:OWNER/REPO:pull_request` for
 *   pull_request events, else `repo:OWNER/REPO:ref:REF`; a `:` inside a value is written `%3A`; with
 *   `immutableSubject` the repo part is `OWNER@OWNER_ID/REPO@REPO_ID` (repositories created after 2026-07-15).
 */
import { randomUUID } from 'node:crypto';

import { exportJWK } from 'jose';

import {
  certifiedKey,
  KeyRing,
  nowSeconds,
  sha1,
  signCompact,
  standIn,
  startHost,
  withOverrides,
  type MintOptions,
  type PublishedKeySet,
  type SigningKey,
  type StandIn,
} from './stand-in.js';

export const GITHUB_CLAIMS_SUPPORTED = [
  'sub',
  'aud',
  'exp',
  'iat',
  'iss',
  'jti',
  'nbf',
  'ref',
  'sha',
  'repository',
  'repository_id',
  'repository_owner',
  'repository_owner_id',
  'enterprise',
  'enterprise_id',
  'run_id',
  'run_number',
  'run_attempt',
  'actor',
  'actor_id',
  'workflow',
  'workflow_ref',
  'workflow_sha',
  'head_ref',
  'base_ref',
  'event_name',
  'ref_type',
  'ref_protected',
  'environment',
  'environment_node_id',
  'job_workflow_ref',
  'job_workflow_sha',
  'repository_visibility',
  'runner_environment',
  'check_run_id',
];

export interface GitHubActionsIssuerOptions {
  /** The iss of its tokens and discovery; default the stand-in's url. */
  issuer?: string;
}

/** `claims` are laid over in place (new ones go last); `header` over `{typ, alg, x5t, kid}`. */
export interface GitHubActionsTokenRequest extends MintOptions {
  /** `OWNER/REPO`. */
  repository: string;
  /** Default `refs/heads/main`. */
  ref?: string;
  /** The workflow's name; default `CI`. */
  workflow?: string;
  /** The workflow file under .github/workflows; default `ci.yml`. */
  workflowFile?: string;
  /** Default `https://github.com/OWNER`, as GitHub's default audience. */
  audience?: string;
  /** Default `push`. */
  eventName?: string;
  environment?: string;
  /** sub in the immutable form `repo:OWNER@OWNER_ID/REPO@REPO_ID:…`. */
  immutableSubject?: boolean;
}

export interface GitHubActionsIssuer extends StandIn {
  /** `url + '/.well-known/jwks'`. */
  readonly jwksUri: string;
  token(req: GitHubActionsTokenRequest): Promise<string>;
}

async function newKey(): Promise<SigningKey> {
  const { privateKey, publicKey, certificate } = await certifiedKey(
    ['-newkey', 'rsa:2048'],
    '/CN=token-actions-stand-in',
    [
      'subjectAltName=DNS:token-actions-stand-in',
      'basicConstraints=CA:FALSE',
      'keyUsage=critical,digitalSignature,keyEncipherment',
      'extendedKeyUsage=serverAuth,clientAuth',
    ],
    730,
  );
  return {
    privateKey,
    publicKey,
    certificate,
    jwk: await exportJWK(publicKey),
    kid: sha1(certificate).toString('hex').toUpperCase(),
  };
}

const x5tOf = (k: SigningKey) => sha1(k.certificate!).toString('base64url');
/** A stable number for a name, as GitHub's ids are (digits, as a string). */
const idOf = (name: string) =>
  String(100_000 + (parseInt(sha1(Buffer.from(name)).toString('hex').slice(0, 7), 16) % 900_000_000));
const escapeColons = (v: string) => v.replaceAll(':', '%3A');

export async function startGitHubActionsIssuer(opts: GitHubActionsIssuerOptions = {}): Promise<GitHubActionsIssuer> {
  const ring = new KeyRing(await newKey(), newKey);
  const jwks = (): PublishedKeySet => ({
    keys: ring.keys.map((k) => ({
      n: k.jwk.n,
      kty: k.jwk.kty,
      kid: k.kid,
      alg: 'RS256',
      e: k.jwk.e,
      use: 'sig',
      x5c: [k.certificate!.toString('base64')],
      x5t: x5tOf(k),
    })),
  });
  let issuer = opts.issuer ?? '';
  let jwksUri = '';
  const json = { 'content-type': 'application/json; charset=utf-8' };
  const host = await startHost((path) => {
    if (path === '/.well-known/openid-configuration') {
      return {
        headers: json,
        body: {
          issuer,
          jwks_uri: jwksUri,
          subject_types_supported: ['public', 'pairwise'],
          response_types_supported: ['id_token'],
          claims_supported: GITHUB_CLAIMS_SUPPORTED,
          id_token_signing_alg_values_supported: ['RS256'],
          scopes_supported: ['openid'],
        },
      };
    }
    if (path === '/.well-known/jwks') return { headers: json, body: jwks() };
    return undefined;
  });
  issuer ||= host.url;
  jwksUri = `${host.url}/.well-known/jwks`;
  let runId = 9_000_000_000 + Math.floor(Math.random() * 1_000_000);

  return Object.assign(standIn(host, issuer, ring, jwks), {
    jwksUri,
    async token(req: GitHubActionsTokenRequest) {
      const [owner, repo, extra] = req.repository.split('/');
      if (!owner || !repo || extra !== undefined) throw new Error('repository: give OWNER/REPO');
      const ref = req.ref ?? 'refs/heads/main';
      const eventName = req.eventName ?? 'push';
      const workflowPath = `${req.repository}/.github/workflows/${req.workflowFile ?? 'ci.yml'}@${ref}`;
      const sha = sha1(Buffer.from(`${req.repository}@${ref}`)).toString('hex');
      const ownerId = idOf(owner);
      const repositoryId = idOf(req.repository);
      const repoPart = req.immutableSubject ? `${owner}@${ownerId}/${repo}@${repositoryId}` : req.repository;
      const context =
        req.environment !== undefined
          ? `environment:${escapeColons(req.environment)}`
          : eventName === 'pull_request'
            ? 'pull_request'
            : `ref:${escapeColons(ref)}`;
      const iat = nowSeconds() + (req.iatOffset ?? 0);
      const isPull = eventName === 'pull_request' || eventName === 'pull_request_target';
      const claims: Record<string, unknown> = {
        jti: randomUUID(),
        sub: `repo:${repoPart}:${context}`,
        environment: req.environment,
        aud: req.audience ?? `https://github.com/${owner}`,
        ref,
        sha,
        repository: req.repository,
        repository_owner: owner,
        repository_owner_id: ownerId,
        run_id: String(++runId),
        run_number: '1',
        run_attempt: '1',
        repository_visibility: 'private',
        repository_id: repositoryId,
        actor_id: ownerId,
        actor: owner,
        workflow: req.workflow ?? 'CI',
        head_ref: isPull ? 'feature' : '',
        base_ref: isPull ? 'main' : '',
        event_name: eventName,
        ref_protected: ref === 'refs/heads/main' ? 'true' : 'false',
        ref_type: ref.startsWith('refs/tags/') ? 'tag' : 'branch',
        workflow_ref: workflowPath,
        workflow_sha: sha,
        job_workflow_ref: workflowPath,
        job_workflow_sha: sha,
        runner_environment: 'github-hosted',
        check_run_id: String(runId * 10 + 7),
        iss: issuer,
        nbf: iat - 600,
        exp: iat + 300,
        iat,
      };
      const key = ring.current;
      return signCompact(
        withOverrides(claims, req.claims),
        withOverrides({ typ: 'JWT', alg: 'RS256', x5t: x5tOf(key), kid: key.kid }, req.header),
        key.privateKey,
      );
    },
  });
}
