/**
 * The table-driven settings engine (`@tessera/core/internal`) that the auth server's and the gateway's
 * configurations run on: each type's parsing and bounds, environment strings, the order of the sources, the
 * file's nested objects, paths against the place that names them, and errors that name the setting.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { ConfigError } from '@tessera/core';
import { loadSettings, parseSettingValue, readSettingsFile, type SettingSpec } from '@tessera/core/internal';
import { settingRefusals } from '@tessera/testing';

/** Asserts a ConfigError for `setting` whose message names it and says `why`. */
const refuses = settingRefusals(ConfigError);

const parse = (spec: SettingSpec, raw: unknown, source = 'TESSERA_X') => parseSettingValue('x', spec, raw, source);

describe('settings engine: one value', () => {
  it('integer: decimal digits only, within its bounds, from a string or a JSON number', () => {
    const spec: SettingSpec = { type: 'integer', min: 1, max: 10, doc: '' };
    assert.equal(parse(spec, ' 7 '), 7);
    assert.equal(parse(spec, 10), 10);
    assert.equal(parse(spec, '1'), 1);
    for (const bad of ['abc', '1.5', '12abc', '0x10', '', 1.5, true, null, '9007199254740993'])
      refuses(() => parse(spec, bad), 'x', /must be an integer \(from TESSERA_X\)/);
    refuses(() => parse(spec, '0'), 'x', /must be at least 1/);
    refuses(() => parse(spec, 11), 'x', /must be at most 10/);
    assert.equal(parse({ type: 'integer', min: -5, doc: '' }, '-5'), -5);
  });

  it('boolean: true/false/1/0 only', () => {
    const spec: SettingSpec = { type: 'boolean', doc: '' };
    assert.equal(parse(spec, 'true'), true);
    assert.equal(parse(spec, '1'), true);
    assert.equal(parse(spec, false), false);
    assert.equal(parse(spec, ' 0 '), false);
    for (const bad of ['yes', 'TRUE', '2', 1, null]) refuses(() => parse(spec, bad), 'x', /must be true or false/);
  });

  it('string and path: non-empty after trimming; a pattern when the table gives one', () => {
    assert.equal(parse({ type: 'string', doc: '' }, ' a b '), 'a b');
    refuses(() => parse({ type: 'string', doc: '' }, '   '), 'x', /non-empty string/);
    refuses(() => parse({ type: 'path', doc: '' }, 7), 'x', /non-empty string/);
    const route: SettingSpec = { type: 'string', pattern: /^\//, doc: '' };
    assert.equal(parse(route, '/ws'), '/ws');
    refuses(() => parse(route, 'ws'), 'x', /must match/);
  });

  it('url: http(s) by default or the schemes given, no query or fragment, trailing slashes dropped', () => {
    const spec: SettingSpec = { type: 'url', doc: '' };
    assert.equal(parse(spec, 'https://auth.example.com//'), 'https://auth.example.com');
    for (const bad of ['not a url', 'ftp://example.com', 'https://e.com/?q=1', 'https://e.com/#top', 42])
      refuses(() => parse(spec, bad), 'x', /URL|query or fragment/);
    const redis: SettingSpec = { type: 'url', protocols: ['redis:', 'rediss:'], doc: '' };
    assert.equal(parse(redis, 'rediss://cache:6380'), 'rediss://cache:6380');
    refuses(() => parse(redis, 'http://cache'), 'x', /scheme redis or rediss/);
  });

  it('enum and list: values from the table; a list from a JSON array or a comma-separated string, bounded in length', () => {
    const e: SettingSpec = { type: 'enum', values: ['a', 'b'], doc: '' };
    assert.equal(parse(e, ' b '), 'b');
    refuses(() => parse(e, 'A'), 'x', /must be one of a, b/);
    refuses(() => parse(e, ['a']), 'x', /must be one of a, b/);
    const l: SettingSpec = { type: 'list', values: ['a', 'b', 'c'], min: 1, max: 2, doc: '' };
    assert.deepEqual(parse(l, ' a, b ,'), ['a', 'b']);
    assert.deepEqual(parse(l, ['c']), ['c']);
    refuses(() => parse(l, ['a', 'd']), 'x', /"d" is not one of a, b, c/);
    refuses(() => parse(l, []), 'x', /at least 1 item\b/);
    refuses(() => parse(l, 'a,b,c'), 'x', /at most 2 items/);
    refuses(() => parse(l, [1]), 'x', /list of strings/);
    assert.deepEqual(parse({ type: 'list', doc: '' }, 'anything, at all'), ['anything', 'at all']);
  });

  it('addresses: IP addresses, CIDR ranges and keywords; `true` refused', () => {
    const spec: SettingSpec = { type: 'addresses', doc: '' };
    assert.deepEqual(parse(spec, '10.0.0.0/8, ::1,loopback'), ['10.0.0.0/8', '::1', 'loopback']);
    assert.deepEqual(parse(spec, false), []);
    refuses(() => parse(spec, 'true'), 'x', /would trust X-Forwarded-For from any client/);
    for (const bad of ['proxy.example.com', '10.0.0.0/33', '::1/129', '10.0.0.1/x', '10.0.0.1/8/1'])
      refuses(() => parse(spec, bad), 'x', /is not an IP address, a CIDR range/);
  });

  it('object: a JSON object passed as is; `false` only where the table allows it', () => {
    const o: SettingSpec = { type: 'object', doc: '' };
    const v = { a: { b: 1 } };
    assert.equal(parse(o, v), v);
    for (const bad of [false, [], null, 'x']) refuses(() => parse(o, bad), 'x', /must be an object \(/);
    assert.equal(parse({ type: 'object', orFalse: true, doc: '' }, false), false);
    refuses(() => parse({ type: 'object', orFalse: true, doc: '' }, true), 'x', /must be an object or false/);
  });

  it('objects: a JSON array of objects, from the environment its JSON text; bad text refused without echoing it', () => {
    const spec: SettingSpec = { type: 'objects', max: 2, doc: '' };
    const v = [{ a: 1 }, { b: { c: 'd' } }];
    assert.equal(parse(spec, v, 'the config file'), v);
    assert.deepEqual(parse(spec, ' [{"a":1},{"b":{"c":"d"}}] '), v);
    assert.deepEqual(parse(spec, '[]'), []);
    for (const bad of [{ a: 1 }, [1], [[]], [null], 'x', '{"a":1}', 7, true])
      refuses(() => parse(spec, bad), 'x', /must be a JSON array of objects/);
    refuses(
      () => parse(spec, '[{"secret-ish": '),
      'x',
      /^x: must be a JSON array of objects \(the text is not valid JSON\) \(from TESSERA_X\)$/,
    );
    refuses(() => parse(spec, [{}, {}, {}]), 'x', /must hold at most 2 items/);
  });

  it("the table's own message replaces the type's", () => {
    const port: SettingSpec = { type: 'integer', min: 0, max: 65535, invalid: 'must be a port number', doc: '' };
    refuses(() => parse(port, 70000, 'the config file'), 'x', /^x: must be a port number \(from the config file\)$/);
    refuses(() => parse(port, 'abc'), 'x', /^x: must be a port number \(from TESSERA_X\)$/);
  });
});

const TABLE = {
  port: { env: 'TESSERA_T_PORT', type: 'integer', min: 0, max: 65535, default: 8000, doc: '' },
  name: { type: 'string', required: true, invalid: 'must be the name', doc: '' },
  algs: { type: 'list', values: ['A', 'B'], default: ['A'], doc: '' },
  dir: { env: 'TESSERA_T_DIR', type: 'path', default: 'data', doc: '' },
  'tls.certFile': { type: 'path', doc: '' },
  'tls.keyFile': { type: 'path', doc: '' },
  feed: { type: 'boolean', default: true, invalid: 'must be {id} or false', doc: '' },
  'feed.id': { type: 'string', doc: '' },
  'feed.secret': { env: 'TESSERA_T_SECRET', type: 'string', envOnly: true, doc: '' },
  extra: { type: 'object', doc: '' },
} as const satisfies Record<string, SettingSpec>;

const FILE_DIR = join('/', 'etc', 'app');
const WORK_DIR = join('/', 'work');
const load = (json: unknown, env: Record<string, string> = {}, overrides?: Record<string, unknown>) =>
  loadSettings(TABLE, {
    file: { json, dir: FILE_DIR },
    env,
    workingDir: WORK_DIR,
    ...(overrides ? { overrides, overrideDir: join('/', 'flags') } : {}),
  });

describe('settings engine: a table', () => {
  it('defaults, then the file, then the environment, then overrides; an empty variable is unset', () => {
    const d = load({ name: 'n' }).values;
    assert.equal(d.port, 8000);
    assert.deepEqual(d.algs, ['A']);
    assert.equal(d.feed, true);
    assert.equal(d['feed.id'], undefined);
    assert.equal(load({ name: 'n', port: 1 }).values.port, 1);
    assert.equal(load({ name: 'n', port: 1 }, { TESSERA_T_PORT: '2' }).values.port, 2);
    assert.equal(load({ name: 'n', port: 1 }, { TESSERA_T_PORT: '2' }, { port: 3 }).values.port, 3);
    assert.equal(load({ name: 'n', port: 1 }, { TESSERA_T_PORT: '' }, { port: undefined }).values.port, 1);
    refuses(() => load({ name: 'n' }, { TESSERA_T_PORT: 'abc' }), 'port', /from TESSERA_T_PORT/);
    refuses(() => load({ name: 'n' }, {}, { port: -1 }), 'port', /at least 0 \(from options\)/);
  });

  it("a default list is the caller's own copy", () => {
    const a = load({ name: 'n' }).values.algs;
    a.push('B');
    assert.deepEqual(load({ name: 'n' }).values.algs, ['A']);
  });

  it('a required setting missing is refused with its message', () => {
    refuses(() => load({}), 'name', /^name: must be the name$/);
    assert.equal(load({}, {}, { name: 'from flags' }).values.name, 'from flags');
  });

  it('paths resolve against the place that names them', () => {
    assert.equal(load({ name: 'n' }).values.dir, join(FILE_DIR, 'data'), 'the default: like the file');
    assert.equal(load({ name: 'n', dir: 'd' }).values.dir, join(FILE_DIR, 'd'));
    assert.equal(load({ name: 'n' }, { TESSERA_T_DIR: 'd' }).values.dir, join(WORK_DIR, 'd'));
    assert.equal(load({ name: 'n' }, {}, { dir: 'd' }).values.dir, join('/', 'flags', 'd'));
    assert.equal(load({ name: 'n', dir: '/abs' }).values.dir, '/abs');
    const loaded = load({ name: 'n', tls: { certFile: 'c.pem', keyFile: 'k.pem' } }, { TESSERA_T_DIR: 'd' });
    assert.equal(loaded.values['tls.certFile'], join(FILE_DIR, 'c.pem'));
    assert.equal(loaded.base.dir, WORK_DIR);
    assert.equal(loaded.base['tls.keyFile'], FILE_DIR);
    const noFile = loadSettings(TABLE, { env: {}, workingDir: WORK_DIR, overrides: { name: 'n' } });
    assert.equal(noFile.values.dir, join(WORK_DIR, 'data'), 'no file: the defaults against the working directory');
  });

  it('an object in the file holds its member settings by dotted name', () => {
    const v = load({ name: 'n', feed: { id: 'gw' }, extra: { any: ['thing'] } }).values;
    assert.equal(v['feed.id'], 'gw');
    assert.equal(v.feed, true);
    assert.deepEqual(v.extra, { any: ['thing'] });
    assert.equal(load({ name: 'n', feed: false }).values.feed, false);
  });

  it('refuses a key the table does not have, at any depth, naming it', () => {
    refuses(() => load({ name: 'n', prot: 1 }), 'prot', /^prot: unknown setting \(from the config file\)$/);
    refuses(() => load({ name: 'n', tls: { certFile: 'c', cert: 'x' } }), 'tls.cert', /unknown setting/);
    refuses(() => load({ name: 'n', 'tls.certFile': 'c' }), 'tls.certFile', /unknown setting/);
    refuses(() => load({ name: 'n', constructor: 1 }), 'constructor', /unknown setting/);
    refuses(() => load({ name: 'n' }, {}, { prot: 1 }), 'prot', /unknown setting \(from options\)/);
    assert.equal(load({ $schema: './schema.json', name: 'n' }).values.name, 'n', '$schema is for editors');
  });

  it('refuses an object where one is expected that is not one, or is empty', () => {
    refuses(() => load({ name: 'n', tls: 'on' }), 'tls', /^tls: must be \{certFile, keyFile\}/);
    refuses(() => load({ name: 'n', tls: {} }), 'tls', /must be \{certFile, keyFile\}/);
    refuses(() => load({ name: 'n', feed: 'x' }), 'feed', /^feed: must be \{id\} or false \(from the config file\)$/);
    refuses(() => load({ name: 'n', extra: [] }), 'extra', /must be an object/);
  });

  it('a setting read only from the environment is refused in the file', () => {
    refuses(
      () => load({ name: 'n', feed: { id: 'gw', secret: 's' } }),
      'feed.secret',
      /never read from the config file: set TESSERA_T_SECRET/,
    );
    assert.equal(load({ name: 'n', feed: { id: 'gw' } }, { TESSERA_T_SECRET: 's' }).values['feed.secret'], 's');
  });

  it('refuses a file that is not a JSON object', () => {
    for (const json of [[1], 'x', null, 3]) refuses(() => load(json), 'config', /must hold a JSON object/);
  });
});

describe('settings engine: the config file', () => {
  it("reads with the caller's reader; an unreadable file or bad JSON names `config`", () => {
    assert.deepEqual(
      readSettingsFile('/x.json', () => '{"a": 1}'),
      { a: 1 },
    );
    const missing = () => {
      throw Object.assign(new Error('nope'), { code: 'ENOENT' });
    };
    refuses(() => readSettingsFile('/x.json', missing), 'config', /cannot read the config file \/x\.json/);
    refuses(() => readSettingsFile('/x.json', () => '{"a": 1,'), 'config', /\/x\.json is not valid JSON/);
  });
});
