/**
 * The generated statements of every dialect. PostgreSQL and MariaDB run them in the other tests; no
 * SQL Server can run here, so its dialect is held to its exact text, its declared parameter types and
 * its connection options.
 */
import sql from 'mssql';
import { describe, expect, it } from 'vitest';
import type { Tag } from '../../core/index.ts';
import { numericTag } from '../../core/testing.ts';
import { mssqlConfig, mssqlInputs } from '../clients/mssql-client.ts';
import { containsPattern, dialectOf, likePattern } from '../dialect.ts';
import { sqlDriver } from '../index.ts';
import { mappingOf, seriesOf } from '../mapping.ts';
import { SqlSettings } from '../settings.ts';
import {
  bucketAggregatesStatement,
  insertStatement,
  latestStatement,
  plotStatement,
  rangeStatement,
  searchStatements,
  tagsByNameStatement,
} from '../statements.ts';
import { withDefaults } from './databases.ts';

const settings = (dialect: string, extra: Record<string, unknown> = {}) =>
  withDefaults<SqlSettings>(SqlSettings, {
    dialect,
    connection: { host: 'hist.plant.local', database: 'Hist', user: 'reader', password: 'x' },
    history: {
      table: 'dbo.history',
      tagColumn: 'tag',
      timeColumn: 'ts',
      valueColumn: 'value',
      qualityColumn: 'quality',
    },
    ...extra,
  });

const tag = (name: string): Tag => numericTag(name);

const T = Date.UTC(2026, 0, 1);

describe('SQL dialects', () => {
  it('given configured names, when quoted, then each dialect quotes each part and refuses anything but plain names', () => {
    expect(dialectOf('postgres').quoteIdentifier('hist.samples')).toBe('"hist"."samples"');
    expect(dialectOf('mysql').quoteIdentifier('hist.samples')).toBe('`hist`.`samples`');
    expect(dialectOf('mssql').quoteIdentifier('dbo.History')).toBe('[dbo].[History]');
    for (const bad of [
      'a.b.c',
      '1st',
      'hist"; DROP TABLE x; --',
      'hist]',
      'hi`st',
      'h ist',
      'tag\u02bc',
      '',
      'a..b',
    ]) {
      for (const d of ['postgres', 'mysql', 'mssql'] as const)
        expect(() => dialectOf(d).quoteIdentifier(bad), bad).toThrow(
          expect.objectContaining({ code: 'PG_ERR_BAD_SETTINGS' }),
        );
    }
  });

  it('given a config with a hostile table or column name, when checked, then the schema refuses it by path', () => {
    for (const table of ['history; DROP TABLE x', 'a.b.c', '[history]', '"history"']) {
      expect(
        () => settings('mssql', { history: { table, tagColumn: 'tag', timeColumn: 'ts', valueColumn: 'v' } }),
        table,
      ).toThrow(/history\/table/);
    }
    expect(() => settings('postgres', { catalog: { table: 'tags', nameColumn: 'name--' } })).toThrow(
      /catalog\/nameColumn/,
    );
  });

  it('given search patterns, when made LIKE patterns, then only * and ? are wildcards', () => {
    expect(likePattern('Line1.*')).toBe('Line1.%');
    expect(likePattern('100%_done?')).toBe('100!%!_done_');
    expect(likePattern('[a-z]!*')).toBe('![a-z]!!%');
    expect(containsPattern('50% [max]_!')).toBe('%50!% ![max]!_!!%');
    expect(containsPattern('*?')).toBe('%*?%');
  });
});

describe('SQL Server statements', () => {
  const m = mappingOf(settings('mssql'));
  const flow = seriesOf(m, tag('Line1.Flow'));

  it('given the latest value of two tags, when generated, then it is one TOP (1) read per tag with typed inputs', () => {
    const s = latestStatement(m, [{ series: flow }, { series: seriesOf(m, tag("O'Brien")), atOrBefore: T }]);
    expect(s.text).toBe(
      'SELECT * FROM (SELECT TOP (1) 0 AS k, [ts] AS t, [value] AS v, NULL AS x, [quality] AS q FROM [dbo].[history] WHERE [tag] = @p1 ORDER BY [ts] DESC) AS s0' +
        ' UNION ALL SELECT * FROM (SELECT TOP (1) 1 AS k, [ts] AS t, [value] AS v, NULL AS x, [quality] AS q FROM [dbo].[history] WHERE [tag] = @p2 AND [ts] <= @p3 ORDER BY [ts] DESC) AS s1',
    );
    const inputs = mssqlInputs(s);
    expect(inputs.map((i) => [i.name, (i.type as unknown as { type: unknown }).type, i.value])).toEqual([
      ['p1', sql.NVarChar, 'Line1.Flow'],
      ['p2', sql.NVarChar, "O'Brien"],
      ['p3', sql.DateTime2, new Date(T)],
    ]);
    expect((inputs[0]!.type as unknown as { length: number }).length).toBe(4000);
  });

  it('given a raw read and a search page, when generated, then TOP limits the one and OFFSET … FETCH pages the other', () => {
    expect(rangeStatement(m, flow, T, T + 1000, 1001).text).toBe(
      'SELECT TOP (1001) [ts] AS t, [value] AS v, NULL AS x, [quality] AS q FROM [dbo].[history] WHERE [tag] = @p1 AND [ts] >= @p2 AND [ts] <= @p3 ORDER BY [ts]',
    );
    const { rows, count } = searchStatements(m, { name: 'Line1.*' }, { limit: 100, offset: 200 });
    expect(rows.text).toBe(
      "SELECT DISTINCT [tag] AS n, NULL AS d, NULL AS u FROM [dbo].[history] WHERE LOWER([tag]) LIKE LOWER(@p1) ESCAPE '!' ORDER BY n OFFSET 200 ROWS FETCH NEXT 100 ROWS ONLY",
    );
    expect(rows.params).toEqual([{ type: 'text', value: 'Line1.%' }]);
    expect(count.text).toBe(
      "SELECT COUNT(DISTINCT [tag]) AS c FROM [dbo].[history] WHERE LOWER([tag]) LIKE LOWER(@p1) ESCAPE '!'",
    );
  });

  it('given aggregates and plot values, when generated, then buckets come from DATEDIFF_BIG and sample statistics from VAR and STDEV', () => {
    const agg = bucketAggregatesStatement(m, flow, T, T + 3_600_000, 60_000);
    expect(agg.text).toContain(
      "FLOOR((CAST(DATEDIFF_BIG(MILLISECOND, '19700101', [ts]) AS FLOAT) - @p1) / @p2) AS b",
    );
    expect(agg.text).toContain('VAR(g) AS va, STDEV(g) AS sd');
    expect(agg.text).toContain(
      'CASE WHEN [value] IS NOT NULL AND ([quality] IS NULL OR ([quality] & 192) = 192) THEN',
    );
    expect(mssqlInputs(agg).map((i) => (i.type as unknown as { type: unknown }).type)).toEqual([
      sql.Float,
      sql.Float,
      sql.NVarChar,
      sql.DateTime2,
      sql.DateTime2,
    ]);
    const plot = plotStatement(m, flow, T, T + 3_600_000, 60_000);
    expect(plot.text).toContain('ROW_NUMBER() OVER (PARTITION BY b ORDER BY t) AS r1');
    expect(plot.text.endsWith('ORDER BY t')).toBe(true);
  });

  it('given writes and a tag lookup, when generated, then values are parameters of one multi-row INSERT', () => {
    const [insert] = insertStatement(
      m,
      [
        { tag: tag('A'), time: T, value: 1.5, text: null },
        { tag: tag("B'); DROP TABLE x; --"), time: T + 1, value: 2, text: null },
      ],
      () => '',
    );
    expect(insert!.text).toBe(
      'INSERT INTO [dbo].[history] ([tag], [ts], [value], [quality]) VALUES (@p1, @p2, @p3, @p4), (@p5, @p6, @p7, @p8)',
    );
    expect(insert!.params.map((p) => p.value)).toEqual([
      'A',
      T,
      1.5,
      192,
      "B'); DROP TABLE x; --",
      T + 1,
      2,
      192,
    ]);
    expect(tagsByNameStatement(m, ['a', 'b']).text).toBe(
      'SELECT DISTINCT [tag] AS n, NULL AS d, NULL AS u FROM [dbo].[history] WHERE [tag] IN (@p1, @p2)',
    );
  });

  it('given TLS settings, when the pool is configured, then it encrypts and checks the certificate unless told otherwise', () => {
    expect(mssqlConfig(settings('mssql')).options).toMatchObject({
      encrypt: true,
      trustServerCertificate: false,
      useUTC: true,
    });
    const unverified = settings('mssql', {
      connection: { host: 'h', database: 'd', user: 'u', tls: { verifyServer: false } },
    });
    expect(mssqlConfig(unverified).options).toMatchObject({ encrypt: true, trustServerCertificate: true });
    const off = settings('mssql', {
      connection: { host: 'h', database: 'd', user: 'u', instanceName: 'HIST', tls: { enabled: false } },
    });
    expect(mssqlConfig(off)).toMatchObject({
      server: 'h',
      options: { encrypt: false, instanceName: 'HIST' },
    });
    expect(mssqlConfig(off).port).toBeUndefined();
  });
});

describe('SQL statements in every dialect', () => {
  const hostile = ["'; DROP TABLE canary; --", '`x`', '[x]', '"x"', '$1', '@p1', '?'];

  it('given hostile tag names, when any statement is generated, then the name is only ever a parameter', () => {
    for (const dialect of ['postgres', 'mysql', 'mssql'] as const) {
      const m = mappingOf(settings(dialect));
      for (const name of hostile) {
        const series = seriesOf(m, tag(name));
        const statements = [
          latestStatement(m, [{ series }]),
          rangeStatement(m, series, T, T + 1, 10),
          bucketAggregatesStatement(m, series, T, T + 10, 1),
          plotStatement(m, series, T, T + 10, 1),
          tagsByNameStatement(m, [name]),
          searchStatements(m, { name, description: name, units: name }, { limit: 1, offset: 0 }).rows,
          ...insertStatement(m, [{ tag: tag(name), time: T, value: 1, text: null }], () => ''),
        ];
        for (const s of statements) {
          expect(s.text.includes(name) && !['?', '$1', '@p1'].includes(name), `${dialect}: ${s.text}`).toBe(
            false,
          );
          const placeholders =
            dialect === 'mysql' ? s.text.split('?').length - 1 : new Set(s.text.match(/\$\d+|@p\d+/g)).size;
          expect(placeholders, s.text).toBe(s.params.length);
        }
      }
    }
  });

  it('given a narrow or wide layout, when the config is checked, then the other layout’s fields are refused by path', () => {
    const check = (s: SqlSettings, tags: { name: string; column?: string }[] = []) =>
      sqlDriver.check!({ id: 'h', driver: 'sql', enabled: true, settings: s, tags });
    expect(
      check(settings('postgres', { history: { table: 'h', timeColumn: 'ts' } })).map((p) => p.path),
    ).toEqual(['settings/history/tagColumn', 'settings/history/valueColumn']);
    const wide = settings('postgres', {
      history: { layout: 'wide', table: 'h', timeColumn: 'ts', tagColumn: 'tag' },
    });
    expect(check(wide).map((p) => p.path)).toEqual(['settings/history/tagColumn', 'tags']);
    expect(
      check(settings('postgres', { history: { layout: 'wide', table: 'h', timeColumn: 'ts' } }), [
        { name: 'A', column: 'ts' },
        { name: 'Tank.Level' },
        { name: 'B', column: 'a' },
        { name: 'C', column: 'A' },
      ]).map((p) => `${p.path}: ${p.message}`),
    ).toEqual([
      'tags/0/column: that is the time column',
      'tags/1/column: give the column of Tank.Level (letters, digits and _)',
      'tags/3/column: column a is given twice',
    ]);
  });
});
