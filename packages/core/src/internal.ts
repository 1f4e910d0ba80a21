// `@tessera/core/internal`: what Tessera's own packages share but users do not call: the table-driven settings
// engine behind the auth server's and the gateway's configuration, and how `importKey` tells a key text's form
// (the CLI's key files). Not a stable API.
export { loadSettings, readSettingsFile, resolvePath } from './config/load.js';
export type { LoadedSettings, LoadSettingsOptions } from './config/load.js';
export { parseSettingValue } from './config/parse-value.js';
export type { SettingSpec, SettingTable, SettingValue, SettingValues } from './config/setting.js';
export { keyTextFormat } from './key/import.js';
export type { KeyTextFormat } from './key/import.js';
