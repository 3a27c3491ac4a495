// County HR: roster import. The CSV goes as it is (UTF-8 or GB18030: the profile service reads
// both); the import is all or nothing, so every bad row comes back at once and nothing is written.
import { useState } from 'preact/hooks';
import { call, newRequestKey } from '../api';
import { Busy, ErrorBox, Field, FilePicker } from '../ui';

interface ImportAnswer {
  kind: string;
  rows: string;
  created: string;
  updated: string;
  unchanged: string;
}

function base64(bytes: Uint8Array): string {
  let text = '';
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(text);
}

// The CSV's data rows (lines after the header that hold something), for the progress line.
function dataRows(bytes: Uint8Array): number {
  let lines = 0;
  let filled = false;
  for (const b of bytes) {
    if (b === 0x0a) {
      if (filled) lines++;
      filled = false;
    } else if (b !== 0x0d && b !== 0x2c && b !== 0x20) {
      filled = true;
    }
  }
  if (filled) lines++;
  return Math.max(0, lines - 1);
}

export function RosterImport({ county }: { county: string }) {
  const [kind, setKind] = useState('ROSTER_KIND_TEACHERS');
  const [file, setFile] = useState<File | null>(null);
  // While an import runs: when it began and how many rows it carries.
  const [busy, setBusy] = useState<{ since: number; rows: number } | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [answer, setAnswer] = useState<ImportAnswer | null>(null);

  async function submit(e: Event) {
    e.preventDefault();
    if (!file) return;
    setError(null);
    setAnswer(null);
    try {
      const bytes = new Uint8Array(await file.arrayBuffer());
      setBusy({ since: Date.now(), rows: dataRows(bytes) });
      setAnswer(
        await call<ImportAnswer>('/v1/rosters:import', {
          body: { countyId: county, kind, csv: base64(bytes) },
          idempotencyKey: newRequestKey(),
          timeoutMs: 120000,
        }),
      );
    } catch (err) {
      setError(err);
    } finally {
      setBusy(null);
    }
  }

  return (
    <section aria-labelledby="roster-h">
      <h2 id="roster-h">名册导入</h2>
      <p class="muted">上传 Excel 另存的 CSV（UTF-8 或 GB18030 均可）。全部行无误才会写入；有错误时列出每一行的问题。</p>
      <form onSubmit={submit} class="form">
        <Field label="名册类型">
          <select value={kind} onChange={(e) => setKind((e.target as HTMLSelectElement).value)}>
            <option value="ROSTER_KIND_TEACHERS">教师名册</option>
            <option value="ROSTER_KIND_SCHOOLS">学校名册</option>
          </select>
        </Field>
        <FilePicker label="CSV 文件" accept=".csv,text/csv" file={file} onFile={setFile} />
        <button type="submit" disabled={!file || !!busy}>
          导入
        </button>
      </form>
      {busy && <Busy label={`正在检查并导入 ${busy.rows} 行，行数多时需要一些时间`} since={busy.since} />}
      <ErrorBox error={error} />
      {answer && (
        <p class="ok" role="status">
          导入完成：共 {answer.rows} 行，新增 {answer.created}，更新 {answer.updated}，未变 {answer.unchanged}。
        </p>
      )}
    </section>
  );
}
