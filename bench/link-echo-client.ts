/**
 * The far end of the bare MQTT echo (the link's floor): an enrolled gateway identity that sends every
 * message it gets on its request topic straight back to a reply topic, with no crypto and no engine.
 * argv: bridge wss URL, dataDir of the enrolled identity, CA file.
 */
import { readFileSync } from 'node:fs';
import { MqttClient } from 'mqtt';
import { WebSocket } from 'ws';
import { connectToken, LINK_QOS, linkTopics, mqttWebSocketStream } from '../gateway/api/index.ts';
import { readEnrollment } from '../gateway/link/enrollment.ts';
import { machineIdentity } from '../gateway/secrets/machine-identity.ts';
import { Sealer } from '../gateway/secrets/sealer.ts';

const [url, dataDir, caFile] = process.argv.slice(2) as [string, string, string];
const identity = await machineIdentity();
const enrolled = readEnrollment(dataDir, () => Sealer.open(dataDir, identity));
if (!enrolled) throw new Error(`${dataDir} holds no enrollment`);
const gatewayId = enrolled.enrollment.gatewayId;
const ca = readFileSync(caFile, 'utf8');
// The same transport as the gateway's link client.
const client = new MqttClient(
  () => mqttWebSocketStream(new WebSocket(url, ['mqtt'], { ca, perMessageDeflate: false })),
  {
    protocolVersion: 4,
    clientId: linkTopics.clientId(gatewayId),
    username: gatewayId,
    password: connectToken(gatewayId, enrolled.keys.signSecret),
    reconnectPeriod: 0,
  },
);
const reply = linkTopics.reply('bench', gatewayId);
client.on('connect', () =>
  client.subscribe(linkTopics.request(gatewayId), { qos: 1 }, () => process.stdout.write('ready\n')),
);
// As the gateway answers a small request: QoS 0 (LINK_QOS.singleFrame).
client.on('message', (_topic, payload) => client.publish(reply, payload, { qos: LINK_QOS.singleFrame }));
client.on('error', (error) => {
  process.stderr.write(`echo client: ${error.message}\n`);
  process.exit(1);
});
process.on('SIGTERM', () => client.end(true, {}, () => process.exit(0)));
