/** The SQL historian driver's door: its factory for the gateway's driver registry. */
import { type DriverFactory, duplicateTagProblems, type SourceConfig } from '../core/index.ts';
import { createSqlDriver, type SqlSourceConfig } from './driver.ts';
import { SqlSettings, SqlTagConfig } from './settings.ts';

type Problem = { path: string; message: string };

function check(config: SourceConfig<SqlSettings, SqlTagConfig>): Problem[] {
  const problems: Problem[] = [];
  const s = config.settings;
  const h = s.history;
  if (h.layout === 'narrow') {
    if (!h.tagColumn)
      problems.push({ path: 'settings/history/tagColumn', message: 'a narrow table needs its tag column' });
    if (!h.valueColumn)
      problems.push({
        path: 'settings/history/valueColumn',
        message: 'a narrow table needs its value column',
      });
    config.tags.forEach((t, i) => {
      if (t.column !== undefined)
        problems.push({
          path: `tags/${i}/column`,
          message: 'column is for wide tables; a narrow table names tags in its tag column',
        });
    });
  } else {
    for (const field of ['tagColumn', 'valueColumn', 'textValueColumn', 'qualityColumn'] as const) {
      if (h[field] !== undefined)
        problems.push({
          path: `settings/history/${field}`,
          message: 'a wide table has one column per tag, listed in tags',
        });
    }
    if (s.catalog)
      problems.push({ path: 'settings/catalog', message: 'a wide table takes its tags from the tags list' });
    if (config.tags.length === 0)
      problems.push({ path: 'tags', message: 'a wide table needs its tags listed, each naming its column' });
    const columns = new Set<string>();
    config.tags.forEach((t, i) => {
      const column = (t.column ?? t.name).toLowerCase();
      if (!/^[a-z_][a-z0-9_]{0,127}$/.test(column))
        problems.push({
          path: `tags/${i}/column`,
          message: `give the column of ${t.name} (letters, digits and _)`,
        });
      if (column === h.timeColumn.toLowerCase())
        problems.push({ path: `tags/${i}/column`, message: 'that is the time column' });
      if (columns.has(column))
        problems.push({ path: `tags/${i}/column`, message: `column ${column} is given twice` });
      columns.add(column);
    });
  }
  if (!s.connection.tls.enabled && s.connection.tls.caFile)
    problems.push({
      path: 'settings/connection/tls/caFile',
      message: 'a CA file means nothing with TLS off',
    });
  if (s.dialect !== 'mssql' && s.connection.instanceName)
    problems.push({
      path: 'settings/connection/instanceName',
      message: 'named instances are SQL Server’s (dialect mssql)',
    });
  problems.push(...duplicateTagProblems(config.tags));
  return problems;
}

export const sqlDriver: DriverFactory<SqlSettings, SqlTagConfig> = {
  name: 'sql',
  tagsNotConfigurable:
    'a wide table’s tags are its columns, listed in the config; a narrow table changes tags in its catalogue table (settings.catalog)',
  settingsSchema: SqlSettings,
  tagSchema: SqlTagConfig,
  secretFields: ['connection.password'],
  fileFields: ['connection.tls.caFile'],
  check,
  create: (config, host) => createSqlDriver(config as SqlSourceConfig, host),
};

export type { SqlSettings, SqlTagConfig } from './settings.ts';
