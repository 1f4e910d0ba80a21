export { createGateway, Gateway } from './gateway.js';
export { ApiRequestError, BrokerError, ChannelError, REALTIME_ERROR_CODES } from './errors.js';
export type { GatewayOptions, GatewayStats, ListenOptions } from './gateway.js';
export { systemClock } from './clock.js';
export type { Clock, Timer } from './clock.js';
export { DEFAULT_LIMITS } from './hub.js';
export type { Limits, Logger, LogLevel } from './hub.js';
export { CHANNEL_ACTIONS, ChannelPolicy, ChannelRights, MAX_CHANNEL_LENGTH, PERSONAL_PREFIX } from './channels.js';
export type { ChannelAction, ChannelInfo, ChannelOptions, NamespaceOptions } from './channels.js';
export { MemoryBroker } from './broker.js';
export type {
  Broker,
  BrokerHandlers,
  ControlMessage,
  HistoryBounds,
  HistoryQuery,
  HistoryResult,
  StreamPosition,
} from './broker.js';
export { RedisBroker } from './redis-broker.js';
export type { RedisBrokerOptions } from './redis-broker.js';
export { Disconnect, ErrorCode, FrameError, Unsubscribe } from './protocol.js';
export type { ClientInfo, DisconnectAdvice, ProtocolError, Publication } from './protocol.js';
export { signSubscriptionToken, SUBSCRIPTION_TOKEN_TYPE } from './subscription-token.js';
export type { SubscriptionTokenInput } from './subscription-token.js';
export { loadGatewayConfig, parseGatewayConfig } from './config.js';
export type { GatewayConfig, LoadGatewayConfigOptions } from './config.js';
export { runGateway } from './run-gateway.js';
export type { RunningGateway } from './run-gateway.js';
export { GATEWAY_SETTINGS } from './settings.js';
export type { GatewaySettingName } from './settings.js';
