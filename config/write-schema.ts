/**
 * Writes config/schema/gateway.schema.json and bridge.schema.json from the definitions the gateway and
 * the bridge validate with (`npm run schema`).
 */
import { writeFileSync } from 'node:fs';
import { BridgeConfigSchema } from '../cloud-bridge/config.ts';
import { publishedGatewaySchema } from '../gateway/config/schema.ts';

export const SCHEMA_FILE = new URL('./schema/gateway.schema.json', import.meta.url);
export const BRIDGE_SCHEMA_FILE = new URL('./schema/bridge.schema.json', import.meta.url);
export const schemaText = () => `${JSON.stringify(publishedGatewaySchema(), null, 2)}\n`;
export const bridgeSchemaText = () =>
  `${JSON.stringify({ $id: 'https://plantgate.dev/schema/bridge.schema.json', ...JSON.parse(JSON.stringify(BridgeConfigSchema)) }, null, 2)}\n`;

if (import.meta.main) {
  writeFileSync(SCHEMA_FILE, schemaText());
  writeFileSync(BRIDGE_SCHEMA_FILE, bridgeSchemaText());
  console.log(`wrote ${SCHEMA_FILE.pathname} and ${BRIDGE_SCHEMA_FILE.pathname}`);
}
