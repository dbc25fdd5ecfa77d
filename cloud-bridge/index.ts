/** cloud-bridge: the bridge between cloud apps and enrolled gateways. */
export { type RunningBridge, startBridge } from './bridge.ts';
export { type BridgeConfig, ConfigError, loadBridgeConfig, parseBridgeConfig } from './config.ts';
export { DEMO_ACCOUNTS, DEMO_PASSWORD, type DevIdentityProvider } from './dev-idp.ts';
export { createDevIssuer, type DevIssuer } from './dev-issuer.ts';
export type { EnrollmentAnswer, EnrollmentRequest } from './enrollment-route.ts';
export type { BridgeStore, ConsentRecord, GatewayRecord } from './store.ts';
