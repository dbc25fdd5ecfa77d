#!/usr/bin/env node
// Runs the TypeScript sources directly: Node 24 strips the types (the code keeps to erasable syntax).
import { main } from '../gateway/cli/main.ts';

process.exitCode = await main(process.argv.slice(2));
