/** The single binary's entry point. */
import { main } from '../gateway/cli/main.ts';

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`plantgate: ${(error as Error).stack ?? error}\n`);
    process.exitCode = 1;
  },
);
