import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LEGACY_TABLES, type LegacyTable } from '../legacy/reader.js';
import type { ImportOutcome } from './importer.js';
import type { Flag, QuarantineEntry } from './plan.js';
import type { Verification } from './verify.js';

export interface ImportReport {
  /**
   * `import sqlite` (imported, then verified), `import sync` (brought up to date with the file, then
   * verified) or `import verify` (a finished import checked again).
   */
  command: 'import sqlite' | 'import sync' | 'import verify';
  file: string;
  /** What the file's shape made the import do: optional tables read as empty, columns not imported. */
  notes: string[];
  timeZone: string;
  resumed: boolean;
  ok: boolean;
  seconds: number;
  writeSeconds: number;
  rowsPerSecond: number;
  /** Seconds per phase of the import, then of the verification. */
  phases: Record<string, number>;
  legacyRows: Record<string, number>;
  written: Record<string, number>;
  quarantine: {
    notImported: number;
    fieldsKeptInNotes: number;
    /** Rows imported into another row: duplicate SKUs into the first product, repeated lines into one. */
    merged: number;
    /** Order lines whose product is gone, imported against a placeholder product. */
    keptOnPlaceholder: number;
    byReason: Record<string, number>;
  };
  verification: Verification;
}

const reasonKind = (q: QuarantineEntry) =>
  `${q.table}: ${q.reason.replace(/#\d+/g, '#N').replace(/".*"|-?\d+(\.\d+)?/g, '…')}`;

/** What a report needs of an import, or of a finished import's decisions made again (`import verify`). */
export type ReportInput = Pick<
  ImportOutcome,
  | 'file'
  | 'timeZone'
  | 'resumed'
  | 'seconds'
  | 'writeSeconds'
  | 'rowsPerSecond'
  | 'phases'
  | 'legacyRows'
  | 'written'
  | 'planner'
>;

export function buildReport(
  outcome: ReportInput,
  verification: Verification,
  command: ImportReport['command'] = 'import sqlite',
  notes: string[] = [],
): ImportReport {
  const q = outcome.planner.quarantine;
  const byReason: Record<string, number> = {};
  for (const entry of q) byReason[reasonKind(entry)] = (byReason[reasonKind(entry)] ?? 0) + 1;
  const counted = (action: QuarantineEntry['action']) => q.filter((e) => e.action === action).length;
  return {
    command,
    file: outcome.file,
    notes,
    timeZone: outcome.timeZone,
    resumed: outcome.resumed,
    ok: verification.ok,
    seconds: outcome.seconds,
    writeSeconds: outcome.writeSeconds,
    rowsPerSecond: outcome.rowsPerSecond,
    phases: outcome.phases,
    legacyRows: outcome.legacyRows,
    written: outcome.written,
    quarantine: {
      notImported: counted('not-imported'),
      fieldsKeptInNotes: counted('field-kept-in-notes'),
      merged: counted('merged'),
      keptOnPlaceholder: counted('kept-on-placeholder'),
      byReason,
    },
    verification,
  };
}

const MAX_MD_ROWS = 500;

function table(headers: string[], rows: (string | number | null)[][]): string {
  const esc = (v: string | number | null) =>
    String(v ?? '')
      .replace(/\|/g, '\\|')
      .replace(/\n/g, ' ');
  const shown = rows.slice(0, MAX_MD_ROWS);
  const more = rows.length > shown.length ? `\n\n…and ${rows.length - shown.length} more (all in the JSON file).` : '';
  return (
    [
      `| ${headers.join(' | ')} |`,
      `| ${headers.map(() => '---').join(' | ')} |`,
      ...shown.map((r) => `| ${r.map(esc).join(' | ')} |`),
    ].join('\n') + more
  );
}

/** verification.{json,md} and quarantine.{json,md}: the proof and the rows an operator must look at. */
export function writeReports(
  dir: string,
  report: ImportReport,
  quarantine: QuarantineEntry[],
  flags: Flag[],
): string[] {
  mkdirSync(dir, { recursive: true });
  // By legacy table and id, whatever order the rows were decided in (the ledger's are decided between
  // chunks of orders), so that two runs over one file write the same lists.
  const rank = (table: string) => LEGACY_TABLES.indexOf(table as LegacyTable);
  quarantine = quarantine.toSorted((a, b) => rank(a.table) - rank(b.table) || a.id - b.id);
  const files = ['verification.json', 'verification.md', 'quarantine.json', 'quarantine.md'].map((f) => join(dir, f));
  writeFileSync(files[0]!, `${JSON.stringify(report, null, 2)}\n`);
  const v = report.verification;
  writeFileSync(
    files[1]!,
    [
      `# Legacy import verification: ${v.ok ? 'PASSED' : 'FAILED'}`,
      '',
      `File \`${report.file}\`, shop time zone ${report.timeZone} (months are its months)` +
        (report.command === 'import verify'
          ? `; a finished import checked again by \`stockgraph import verify\`: ` +
            `${Object.values(report.legacyRows).reduce((a, b) => a + b, 0)} legacy rows. `
          : `${report.resumed ? ' (resumed run)' : ''}; ` +
            `${Object.values(report.legacyRows).reduce((a, b) => a + b, 0)} legacy rows in ${report.seconds.toFixed(1)} s ` +
            `(${report.rowsPerSecond} rows/s). `) +
        `${report.quarantine.notImported} row(s) quarantined, ${report.quarantine.merged} merged into another row, ` +
        `${report.quarantine.keptOnPlaceholder} order line(s) kept against a placeholder product, ` +
        `${report.quarantine.fieldsKeptInNotes} field(s) kept in notes.` +
        (report.command === 'import sync'
          ? ` Brought up to date by \`import sqlite --sync\`; written: ${
              Object.entries(report.written)
                .map(([t, n]) => `${t} ${n}`)
                .join(', ') || 'nothing (no change)'
            }.`
          : ''),
      ...report.notes.map((note) => `\n- ${note}`),
      '',
      table(
        ['check', 'legacy', 'stockgraph', 'agrees'],
        v.checks.map((c) => [c.name, c.legacy, c.stockgraph, c.ok ? 'yes' : '**NO**']),
      ),
      '',
      ...v.checks
        .filter((c) => !c.ok)
        .flatMap((c) => [
          `## Differences: ${c.name}`,
          '',
          table(
            ['table', 'row (legacy id, month)', 'legacy', 'stockgraph'],
            c.differences.map((d) => [d.table, d.id, d.legacy, d.stockgraph]),
          ),
          '',
        ]),
    ].join('\n'),
  );
  writeFileSync(files[2]!, `${JSON.stringify({ quarantine, flags }, null, 2)}\n`);
  writeFileSync(
    files[3]!,
    [
      '# Legacy import quarantine',
      '',
      'Rows not imported (`not-imported`), imported into another row (`merged`: a duplicate SKU into the first product with it, ' +
        'a repeated line into the line of its order for that product), imported against a placeholder product (`kept-on-placeholder`: ' +
        'a line whose product was deleted or quarantined), or imported with one field kept in the notes (`field-kept-in-notes`), each with its reason.',
      '',
      '## By reason',
      '',
      table(
        ['reason', 'rows'],
        Object.entries(report.quarantine.byReason).sort((a, b) => b[1] - a[1]),
      ),
      '',
      '## Rows',
      '',
      table(
        ['table', 'legacy id', 'action', 'reason'],
        quarantine.map((q) => [q.table, q.id, q.action, q.reason]),
      ),
      '',
      '## Imported with a note',
      '',
      table(
        ['table', 'legacy id', 'note'],
        flags.map((f) => [f.table, f.id, f.note]),
      ),
      '',
    ].join('\n'),
  );
  return files;
}
