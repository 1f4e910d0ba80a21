// The servers bench/http.mjs and bench/http-instructions.mjs compare: the same JSON route unauthenticated,
// behind Tessera's adapters, and behind the libraries users would pick instead. `verifies` says whether the
// mode checks a token (so a tampered one must be refused); `full` that it verifies the signature on every
// request (no verified-token cache), which costs tens of times more than a cached request.

export const MODES = [
  { mode: 'fastify', framework: 'fastify', verifies: false, label: 'Fastify, bare route' },
  {
    mode: 'fastify-shell',
    framework: 'fastify',
    verifies: false,
    label: 'Fastify, empty plugin registered (awaited) like Tessera',
  },
  { mode: 'tessera-fastify', framework: 'fastify', verifies: true, label: 'Tessera Fastify plugin, cache on' },
  {
    mode: 'tessera-fastify-nocache',
    framework: 'fastify',
    verifies: true,
    full: true,
    label: 'Tessera Fastify plugin, cache off',
  },
  { mode: 'fastify-jwt', framework: 'fastify', verifies: true, label: '@fastify/jwt (fast-jwt), cache on' },
  { mode: 'fastify-jwt-nocache', framework: 'fastify', verifies: true, full: true, label: '@fastify/jwt (fast-jwt), cache off' },
  { mode: 'express', framework: 'express', verifies: false, label: 'Express, bare route' },
  { mode: 'tessera-express', framework: 'express', verifies: true, label: 'Tessera Express middleware, cache on' },
  {
    mode: 'tessera-express-nocache',
    framework: 'express',
    verifies: true,
    full: true,
    label: 'Tessera Express middleware, cache off',
  },
  {
    mode: 'express-jwt',
    framework: 'express',
    verifies: true,
    full: true,
    label: 'express-jwt + jwks-rsa (JWKS cached; no token cache)',
  },
];

/** The ratios the targets are read from: [name, numerator mode, denominator mode, target]. */
export const RATIOS = [
  ['Tessera plugin / @fastify/jwt, cache on', 'tessera-fastify', 'fastify-jwt', '> 1'],
  ['Tessera plugin / @fastify/jwt, cache off', 'tessera-fastify-nocache', 'fastify-jwt-nocache', '> 1'],
  ['Tessera plugin / empty-plugin app', 'tessera-fastify', 'fastify-shell', '>= 0.9'],
  ['Tessera plugin / bare Fastify route', 'tessera-fastify', 'fastify', '(recorded)'],
  ['Tessera middleware / express-jwt, cache on', 'tessera-express', 'express-jwt', '> 1'],
  ['Tessera middleware / express-jwt, cache off', 'tessera-express-nocache', 'express-jwt', '> 1'],
  ['Tessera middleware / bare Express route', 'tessera-express', 'express', '(recorded)'],
];
