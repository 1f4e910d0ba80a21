import assert from 'node:assert/strict';

/** What a refusal of a setting carries: `ConfigError` of @tessera/core (given by the caller: this package depends on none). */
interface SettingError {
  readonly code: string;
  readonly option: string;
  readonly message: string;
}

/**
 * The assertion of the configuration tests: `refuses(fn, setting, why)` asserts that `fn` throws the given
 * error class with code `ERR_CONFIG`, naming `setting` (as `option` and at the start of its message) and
 * saying `why`.
 */
export function settingRefusals(
  ErrorClass: abstract new (...args: never[]) => SettingError,
): (fn: () => unknown, setting: string, why: RegExp) => void {
  return (fn, setting, why) =>
    assert.throws(fn, (err: unknown) => {
      assert.ok(err instanceof ErrorClass, String(err));
      assert.equal(err.code, 'ERR_CONFIG');
      assert.equal(err.option, setting, err.message);
      assert.ok(err.message.startsWith(`${setting}: `), err.message);
      assert.match(err.message, why);
      return true;
    });
}
