/** A site whose only way out is an HTTP proxy: enrollment and the link go through it with CONNECT. */
import http from 'node:http';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LinkHarness, startLinkHarness } from './link-harness.ts';

const tunnels: string[] = [];
const sockets = new Set<net.Socket>();
let proxy: http.Server;
let h: LinkHarness;

beforeAll(async () => {
  proxy = http.createServer((_request, response) => response.writeHead(405).end());
  proxy.on('connect', (request: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    tunnels.push(request.url ?? '');
    const [host, port] = (request.url ?? '').split(':');
    const upstream = net.connect(Number(port), host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => sockets.delete(s));
    }
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const { port } = proxy.address() as net.AddressInfo;
  h = await startLinkHarness({ proxy: `http://127.0.0.1:${port}` });
}, 60_000);
afterAll(async () => {
  await h?.stop();
  for (const s of sockets) s.destroy();
  await new Promise((resolve) => proxy.close(resolve));
});

describe('the link through an HTTP proxy', () => {
  it('enrolls and links through CONNECT tunnels to the bridge, and answers', async () => {
    const bridgeAddress = `127.0.0.1:${h.bridge.port}`;
    // One tunnel for the enrollment, one for the link.
    expect(tunnels.filter((t) => t === bridgeAddress).length).toBeGreaterThanOrEqual(2);
    await h.consent('alice');
    const answer = await h.api('/api/v1/gateways/site-a/sources/boiler/values/snapshot', {
      token: await h.appToken('alice'),
      body: { tags: ['Boiler1.SteamPressure'] },
    });
    expect(answer.status).toBe(200);
  });
});
