// County HR: roster import. The CSV goes as it is (UTF-8 or GB18030: the profile service reads
// both); the import is all or nothing, so every bad row comes back at once and nothing is written.
import { useState } from 'preact/hooks';
import { call, newRequestKey } from '../api';
import { Busy, ErrorBox, Field } from '../ui';

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

export function RosterImport({ county }: { county: string }) {
  const [kind, setKind] = useState('ROSTER_KIND_TEACHERS');
  const [file, setFile] = useState<File | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [answer, setAnswer] = useState<ImportAnswer | null>(null);

  async function submit(e: Event) {
    e.preventDefault();
    if (!file) return;
    setBusy(true);
    setError(null);
    setAnswer(null);
    try {
      const bytes = new Uint8Array(await file.arrayBuffer());
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
      setBusy(false);
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
        <Field label="CSV 文件">
          <input type="file" accept=".csv,text/csv" onChange={(e) => setFile((e.target as HTMLInputElement).files?.[0] ?? null)} />
        </Field>
        <button type="submit" disabled={!file || busy}>
          导入
        </button>
      </form>
      {busy && <Busy label={`正在导入 ${file?.name ?? ''}，行数多时需要一些时间`} />}
      <ErrorBox error={error} />
      {answer && (
        <p class="ok" role="status">
          导入完成：共 {answer.rows} 行，新增 {answer.created}，更新 {answer.updated}，未变 {answer.unchanged}。
        </p>
      )}
    </section>
  );
}
