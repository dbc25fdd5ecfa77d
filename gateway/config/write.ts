/**
 * Changing the config file from the gateway itself (tags.create/update/delete of a source whose tags
 * live in the config): the YAML document is edited in place, comments and layout kept; the whole new
 * config is validated before anything is written; the file is replaced atomically (temp file, fsync,
 * rename) and the previous generation kept beside it as `<file>.previous`.
 */
import {
  closeSync,
  copyFileSync,
  existsSync,
  fsyncSync,
  openSync,
  readFileSync,
  renameSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';
import { isMap, isSeq, parseDocument, type YAMLMap, type YAMLSeq } from 'yaml';
import type { DriverFactory } from '../../drivers/core/index.ts';
import { gatewayError } from '../errors.ts';
import { DRIVERS } from '../sources/driver-registry.ts';
import { parseGatewayConfig } from './load.ts';
import type { GatewayConfig } from './schema.ts';

/** Replaces `file` with `text` so that a crash leaves either the old or the new file, never half of one. */
export function writeFileAtomically(file: string, text: string): void {
  const dir = path.dirname(file);
  const temporary = path.join(dir, `.${path.basename(file)}.${process.pid}.tmp`);
  const fd = openSync(temporary, 'w', 0o600);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  if (existsSync(file)) copyFileSync(file, `${file}.previous`);
  renameSync(temporary, file);
  if (process.platform !== 'win32') {
    const dirFd = openSync(dir, 'r');
    try {
      fsyncSync(dirFd);
    } finally {
      closeSync(dirFd);
    }
  }
}

/**
 * Edits the `tags` list of one source in the config file and writes it back once the whole config
 * validates; answers the new config. `edit` changes the YAML list in place.
 */
export async function editSourceTags(
  file: string,
  sourceId: string,
  edit: (tags: YAMLSeq, document: ReturnType<typeof parseDocument>) => void,
  drivers: readonly DriverFactory[] = DRIVERS,
): Promise<GatewayConfig> {
  const text = readFileSync(file, 'utf8');
  const document = parseDocument(text);
  const sources = document.get('sources');
  if (!isSeq(sources)) throw gatewayError('PG_ERR_CONFIG_INVALID', `${file} has no sources list`);
  const source = sources.items.find((s): s is YAMLMap => isMap(s) && s.get('id') === sourceId);
  if (!source) throw gatewayError('PG_ERR_SOURCE_NOT_FOUND', `${file} has no source "${sourceId}"`);
  let tags = source.get('tags');
  if (!isSeq(tags)) {
    tags = document.createNode([]);
    source.set('tags', tags);
  }
  edit(tags as YAMLSeq, document);
  const next = document.toString({ lineWidth: 0 });
  // Refused here, the file stays as it was.
  const config = await parseGatewayConfig(next, file, drivers);
  writeFileAtomically(file, next);
  return config;
}
