/**
 * The bodies of the server API: how a body is read (JSON, depth-capped, an object) and the JSON schema of
 * each method's body, with the one sentence per field that a refusal names.
 */
import { ApiRequestError } from './errors.js';
import { jsonDepthExceeds, MAX_JSON_DEPTH } from './protocol.js';

/**
 * Parses a body (its text, whatever its content type). The depth cap keeps a deep body from reaching
 * JSON.parse and, later, the encoders of every subscriber.
 */
export function parseBody(text: string): Record<string, unknown> {
  if (jsonDepthExceeds(text, MAX_JSON_DEPTH)) throw new ApiRequestError(`the body nests deeper than ${MAX_JSON_DEPTH} levels`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ApiRequestError('the body is not JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new ApiRequestError('the body must be a JSON object');
  return value as Record<string, unknown>;
}

/** What a field must be: the description of a body that breaks the field's schema. */
const FIELD_RULES: Readonly<Record<string, string>> = {
  channel: 'must be a non-empty string',
  channels: 'must be a non-empty array of at most 1000 channel names',
  user: 'must be a non-empty string',
  data: 'is required',
  reconnect: 'must be a boolean',
  limit: 'must be a non-negative integer',
  reverse: 'must be a boolean',
  since: 'must be {offset, epoch}',
};

const nonEmptyString = { type: 'string', minLength: 1 } as const;
const safeCount = { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER } as const;

const body = (required: readonly string[], properties: Record<string, object> = {}) => ({
  type: 'object',
  required,
  properties,
});

/** The body schema of each method, by the last segment of its path. */
export const BODY_SCHEMAS: Readonly<Record<string, object>> = {
  publish: body(['channel', 'data'], { channel: nonEmptyString }),
  broadcast: body(['channels', 'data'], {
    channels: { type: 'array', minItems: 1, maxItems: 1000, items: { type: 'string' } },
  }),
  disconnect: body(['user'], { user: nonEmptyString, reconnect: { type: 'boolean' } }),
  unsubscribe: body(['user', 'channel'], { user: nonEmptyString, channel: nonEmptyString }),
  presence: body(['channel'], { channel: nonEmptyString }),
  presence_stats: body(['channel'], { channel: nonEmptyString }),
  history: body(['channel'], {
    channel: nonEmptyString,
    limit: safeCount,
    reverse: { type: 'boolean' },
    since: { type: 'object', required: ['epoch', 'offset'], properties: { epoch: { type: 'string' }, offset: safeCount } },
  }),
};

/** One schema failure as Ajv reports it (the parts read here). */
export interface SchemaFailure {
  readonly instancePath: string;
  readonly params: { readonly missingProperty?: string };
}

/**
 * The description of a body that fails its schema: the first field at fault (the top-level one, for a
 * fault inside it), and what it must be.
 */
export function describeFailure(failure: SchemaFailure | undefined): string {
  const field = failure?.instancePath.split('/')[1] || failure?.params.missingProperty;
  const rule = field === undefined ? undefined : FIELD_RULES[field];
  return rule ? `${field} ${rule}` : 'the body must be a JSON object';
}
