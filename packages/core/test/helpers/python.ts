import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';

/** Debian's python3 (not a pyenv python on PATH): where the interop oracles (PyJWT, jwcrypto) are installed. */
export const PYTHON = '/usr/bin/python3';

export type PyResult = Record<string, unknown> & { error?: string };

/**
 * A batch runner of a Python `run(req)` function: one process reads a JSON list of requests on stdin and answers a
 * JSON list of results (or `{error}`) on stdout, since importing the library costs a quarter of a second.
 */
export function pythonBatch(
  runFunction: string,
  timeoutMs: number,
): (requests: readonly Record<string, unknown>[]) => PyResult[] {
  const script = `${runFunction}

out = []
for req in json.load(sys.stdin):
    try:
        out.append(run(req))
    except Exception as e:
        out.append({"error": type(e).__name__ + ": " + str(e)})
print(json.dumps(out))
`;
  return (requests) => {
    const r = spawnSync(PYTHON, ['-c', script], { input: JSON.stringify(requests), encoding: 'utf8', timeout: timeoutMs });
    if (r.error) throw r.error;
    assert.equal(r.status, 0, `python failed: ${r.stderr}`);
    return JSON.parse(r.stdout) as PyResult[];
  };
}

/** The version a runner's `{op: "version"}` answers, undefined when the library (or python) is missing. */
export function pythonLibraryVersion(python: (requests: readonly Record<string, unknown>[]) => PyResult[]): string | undefined {
  try {
    return python([{ op: 'version' }])[0]!.version as string;
  } catch {
    return undefined;
  }
}
