/** Writes config/schema/gateway.schema.json from the definitions the gateway validates with (`npm run schema`). */
import { writeFileSync } from 'node:fs';
import { publishedGatewaySchema } from '../gateway/config/schema.ts';

export const SCHEMA_FILE = new URL('./schema/gateway.schema.json', import.meta.url);
export const schemaText = () => `${JSON.stringify(publishedGatewaySchema(), null, 2)}\n`;

if (import.meta.main) {
  writeFileSync(SCHEMA_FILE, schemaText());
  console.log(`wrote ${SCHEMA_FILE.pathname}`);
}
