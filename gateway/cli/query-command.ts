/**
 * `plantgate query --config FILE OPERATION [SOURCE] ['JSON-REQUEST']`: runs one typed operation against
 * the running gateway through its loopback API and prints the JSON answer. values.subscribe prints each
 * push until Ctrl-C.
 */
import { parseArgs } from 'node:util';
import { loadGatewayConfig } from '../config/load.ts';
import { LocalApiClient } from '../local-api/client.ts';
import { print, UsageError } from './args.ts';

const USAGE = "plantgate query --config FILE OPERATION [SOURCE] ['JSON-REQUEST']";

export async function queryCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { config: { type: 'string', short: 'c' } },
    allowPositionals: true,
  });
  if (!values.config || positionals.length < 1 || positionals.length > 3) throw new UsageError(USAGE);
  const [operation, ...rest] = positionals as [string, ...string[]];
  const source = operation === 'health' ? undefined : rest[0];
  const text = operation === 'health' ? rest[0] : rest[1];
  let request: unknown = {};
  if (text !== undefined) {
    try {
      request = JSON.parse(text);
    } catch (error) {
      throw new UsageError(`the request is not JSON: ${(error as Error).message}`);
    }
  }
  const client = LocalApiClient.forConfig(await loadGatewayConfig(values.config));
  if (operation === 'values.subscribe') {
    if (!source) throw new UsageError(USAGE);
    const r = request as { tags?: string[]; publishInterval?: number };
    const controller = new AbortController();
    process.once('SIGINT', () => controller.abort());
    try {
      for await (const push of client.stream(
        source,
        r.tags ?? [],
        r.publishInterval ?? 1000,
        controller.signal,
      )) {
        print(JSON.stringify(push));
      }
    } catch (error) {
      if (!controller.signal.aborted) throw error;
    }
    return 0;
  }
  const answer = await client.call(operation, source, request);
  print(answer.body);
  return answer.status < 400 ? 0 : 1;
}
