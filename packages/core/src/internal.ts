// `@tessera/core/internal`: what Tessera's own packages share but users do not call: the table-driven settings
// engine behind the auth server's and the gateway's configuration. Not a stable API.
export { loadSettings, readSettingsFile, resolvePath } from './config/load.js';
export type { LoadedSettings, LoadSettingsOptions } from './config/load.js';
export { parseSettingValue } from './config/parse-value.js';
export type { SettingSpec, SettingTable, SettingValue, SettingValues } from './config/setting.js';
