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

export type ConfigDocument = ReturnType<typeof parseDocument>;

/**
 * Edits the config file's YAML document and writes it back once the whole new config validates;
 * answers the new config. Refused, the file stays as it was.
 */
export async function editConfig(
  file: string,
  edit: (document: ConfigDocument) => void,
  drivers: readonly DriverFactory[] = DRIVERS,
): Promise<GatewayConfig> {
  const document = parseDocument(readFileSync(file, 'utf8'));
  edit(document);
  const next = document.toString({ lineWidth: 0 });
  const config = await parseGatewayConfig(next, file, drivers);
  writeFileAtomically(file, next);
  return config;
}

/** The `sources` list of a config document (made when missing). */
export function sourcesOf(document: ConfigDocument): YAMLSeq {
  let sources = document.get('sources');
  if (!isSeq(sources)) {
    sources = document.createNode([]);
    document.set('sources', sources);
  }
  return sources as YAMLSeq;
}

/** One source's entry in a config document. */
export function sourceEntryOf(document: ConfigDocument, sourceId: string): YAMLMap {
  const source = sourcesOf(document).items.find((s): s is YAMLMap => isMap(s) && s.get('id') === sourceId);
  if (!source) throw gatewayError('PG_ERR_SOURCE_NOT_FOUND', `the config has no source "${sourceId}"`);
  return source;
}

/** Edits the `tags` list of one source in the config file (see editConfig). */
export function editSourceTags(
  file: string,
  sourceId: string,
  edit: (tags: YAMLSeq, document: ConfigDocument) => void,
  drivers: readonly DriverFactory[] = DRIVERS,
): Promise<GatewayConfig> {
  return editConfig(
    file,
    (document) => {
      const source = sourceEntryOf(document, sourceId);
      let tags = source.get('tags');
      if (!isSeq(tags)) {
        tags = document.createNode([]);
        source.set('tags', tags);
      }
      edit(tags as YAMLSeq, document);
    },
    drivers,
  );
}
