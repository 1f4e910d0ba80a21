// Where the instructions of one callgrind dump of a Node server go: exclusive counts by group (Node's HTTP,
// Fastify, Tessera's JS, OpenSSL, SQLite, prom-client, Kysely, V8, libc) and by function, and inclusive
// counts of the JavaScript functions. Instructions in JIT code have no symbol for valgrind: they are named
// after the JavaScript function whose code holds their address, from the map V8 writes with
// `node --perf-basic-prof` (/tmp/perf-<pid>.map). Used by bench/token-endpoint-instructions.mjs; by hand:
//   node bench/callgrind-groups.mjs <callgrind dump> <perf map> <requests in the dump> [top=40]
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { annotate, COMPILER, MAJOR_GC } from './callgrind.mjs';

/** The JIT code ranges of a perf map; where ranges overlap (code freed and reused), the later entry wins. */
function perfMap(file) {
  const entries = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /^([0-9a-f]+) ([0-9a-f]+) (.*)$/.exec(line);
    if (m) entries.push({ start: parseInt(m[1], 16), end: parseInt(m[1], 16) + parseInt(m[2], 16), name: m[3] });
  }
  return (address) => {
    let found;
    for (const e of entries) if (address >= e.start && address < e.end) found = e;
    return found?.name;
  };
}

const FASTIFY =
  /^(fastify|@fastify\/.*|avvio|find-my-way|light-my-request|fast-json-stringify|fast-querystring|fast-decode-uri-component|fast-uri|toad-cache|abstract-logging|pino.*|process-warning|secure-json-parse|rfdc|ret|safe-regex2|content-type|fastq|reusify)$/;
const OPENSSL =
  /ossl_|OPENSSL|openssl|EVP_|evp_|ECDSA|ecdsa|ecp_|EC_|ec_|BN_|bn_|sha256|SHA256|sha512|SHA512|HMAC|hmac|CRYPTO_|RAND_|rand_|drbg|DRBG|ERR_|OBJ_|ASN1|asn1|OSSL|PROV|digest_|x86_64_|aesni|node::crypto::/;
const MINOR_GC =
  /Scaveng|v8::internal::Heap::|NewSpace|SemiSpace|PagedSpace|LargeObject|GlobalHandles|Allocat|IterateObjectCache|RootVisitor|VisitRootPointer/;

/** The group of a JavaScript function, by the file the perf map names. */
function jsGroup(js) {
  const file = /\s(\S+):\d+:\d+$/.exec(js)?.[1] ?? '';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(file)?.[1];
  if (file.startsWith('node:')) return 'Node.js JS (node:http, net, streams, events, url)';
  if (pkg !== undefined && FASTIFY.test(pkg)) return 'Fastify and its dependencies (JS)';
  if (pkg === 'prom-client' || pkg === 'tdigest' || pkg === 'bintrees') return 'prom-client (JS)';
  if (pkg === 'kysely') return 'Kysely (JS)';
  if (pkg === 'better-sqlite3') return 'SQLite (better-sqlite3 JS and native)';
  if (pkg !== undefined) return `other packages (JS): ${pkg}`;
  if (/\/packages\/[^/]+\//.test(file)) return 'Tessera JS';
  if (/^(RegExp|Builtin|Stub|BytecodeHandler|Handler)/.test(js)) return 'V8 builtins, regexp code, ICs';
  return 'other JIT code';
}

/** The JavaScript function a JIT address belongs to, shortened to `name path:line:col` from the package on. */
const jsName = (js) => js.replace(/^JS:[*~^+]?/, '').replace(/(file:\/\/)?\/\S*?\/(node_modules|packages)\//, '$2/');

/** The group and display name of one callgrind_annotate entry (`file:function [object]`). */
function classify(name, lookup) {
  if (COMPILER.test(name)) return ['V8 optimizing compiler (counted apart)', name];
  if (MAJOR_GC.test(name)) return ['V8 major GC (counted apart)', name];
  const jit = /^\?\?\?:0x([0-9a-f]+) \[\?\?\?\]$/.exec(name);
  if (jit) {
    const js = lookup(parseInt(jit[1], 16));
    return js === undefined ? ['JIT code outside the perf map', 'unknown JIT code'] : [jsGroup(js), jsName(js)];
  }
  const fn = name.replace(/^\S*?:/, '').replace(/ \[[^\]]*\]$/, '');
  if (name.includes('better_sqlite3')) return ['SQLite (better-sqlite3 JS and native)', fn];
  if (/libc\.so|\.\/(malloc|string|nptl)\/|ld-linux/.test(name)) return ['libc (malloc, memcpy, locks)', fn];
  if (OPENSSL.test(name)) return ['OpenSSL (ECDSA P-256, SHA-256, HMAC) and node:crypto', fn];
  if (/Builtins_/.test(name)) return ['V8 builtins, regexp code, ICs', fn];
  if (MINOR_GC.test(name)) return ['V8 heap: allocation and minor GC', fn];
  if (/JsonStringifier|JsonParser/.test(name)) return ['V8 JSON.stringify / JSON.parse', fn];
  if (/v8::|v8_inspector|cppgc/.test(name)) return ['V8 runtime (C++)', fn];
  if (/node::|llhttp|uv_|uv__|napi_/.test(name)) return ['Node.js native (llhttp, libuv, bindings)', fn];
  if (/libstdc\+\+/.test(name)) return ['libstdc++', fn];
  return ['other native code', fn];
}

const perToken = (o, requests, top) =>
  Object.fromEntries(
    Object.entries(o)
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([k, v]) => [k, Math.round(v / requests)]),
  );

/**
 * Instructions per request of one dump (holding `requests` requests): `groups` (exclusive, every group),
 * `exclusive` (the `top` functions, `group | function`) and `inclusiveJs` (the `top` JavaScript functions
 * with what they call; a function inlined into its caller is counted in the caller).
 */
export function breakdown(dumpFile, mapFile, requests, top = 40) {
  const lookup = perfMap(mapFile);
  const groups = {};
  const exclusive = {};
  for (const { n, name } of annotate(dumpFile)) {
    if (name.includes('PROGRAM TOTALS')) continue;
    const [group, fn] = classify(name, lookup);
    groups[group] = (groups[group] ?? 0) + n;
    exclusive[`${group} | ${fn}`] = (exclusive[`${group} | ${fn}`] ?? 0) + n;
  }
  const inclusiveJs = {};
  for (const { n, name } of annotate(dumpFile, true)) {
    const jit = /^\?\?\?:0x([0-9a-f]+) \[\?\?\?\]$/.exec(name);
    const js = jit && lookup(parseInt(jit[1], 16));
    if (js) inclusiveJs[jsName(js)] = (inclusiveJs[jsName(js)] ?? 0) + n;
  }
  return {
    groups: perToken(groups, requests, Infinity),
    exclusive: perToken(exclusive, requests, top),
    inclusiveJs: perToken(inclusiveJs, requests, top),
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [dump, map, requests, top] = process.argv.slice(2);
  if (!dump || !map || !requests) {
    console.error('usage: node bench/callgrind-groups.mjs <callgrind dump> <perf map> <requests> [top=40]');
    process.exit(1);
  }
  console.log(JSON.stringify(breakdown(dump, map, Number(requests), Number(top ?? 40)), null, 2));
}
