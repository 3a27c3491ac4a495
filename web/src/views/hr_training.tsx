// County HR: training compliance of the county or one school: counts by status, a chart, the
// teachers behind with their shortfall, and the CSV download.
import { useEffect, useRef, useState } from 'preact/hooks';
import { call, raw } from '../api';
import { drawBars, loadCharts } from '../chart';
import { hours, label } from '../labels';
import { Busy, ErrorBox, Field, dispositionName, saveBlob, useLoad } from '../ui';
import { SchoolPicker } from './schools';

interface Row {
  teacherId: string;
  teacherName: string;
  schoolId: string;
  status: string;
  requiredHours: number;
  countedHours: number;
  expectedHours: number;
  shortfallHours: number;
  daysLeft: number;
}
interface Report {
  teachers: string;
  asOf: string;
  completionPercent: number;
  byStatus: Array<{ status: string; teachers: string }>;
  rows: Row[];
  page: { nextPageToken: string; totalSize: string };
}

const statusColors: Record<string, string> = {
  TRAINING_STATUS_COMPLETE: '#2e7d32',
  TRAINING_STATUS_ON_TRACK: '#1565c0',
  TRAINING_STATUS_AT_RISK: '#ef6c00',
  TRAINING_STATUS_BEHIND: '#c62828',
};
const order = Object.keys(statusColors);

const reportPath = (county: string) => `/v1/counties/${county}/training-compliance`;

// The rest of the report's rows, after its first page (pages of 500).
async function remainingRows(county: string, schoolId: string, first: Report): Promise<Row[]> {
  const rows = [...first.rows];
  let token = first.page?.nextPageToken;
  while (token) {
    const next = await call<Report>(reportPath(county), { query: { schoolId, 'page.pageSize': 500, 'page.pageToken': token } });
    rows.push(...next.rows);
    token = next.page?.nextPageToken;
  }
  return rows;
}

export function TrainingCompliance({ county, fixedSchool }: { county: string; fixedSchool?: string }) {
  const [school, setSchool] = useState(fixedSchool ?? '');
  // The counts and the chart come with the first page; the list of teachers behind fills in
  // when every page is read.
  const [report, error, loading] = useLoad(
    () => call<Report>(reportPath(county), { query: { schoolId: school, 'page.pageSize': 500 } }),
    [county, school],
  );
  const [rows, setRows] = useState<Row[] | null>(null);
  const [rowsError, setRowsError] = useState<unknown>(null);
  useEffect(() => {
    if (!report) return;
    let live = true;
    setRows(null);
    setRowsError(null);
    remainingRows(county, school, report)
      .then((all) => live && setRows(all))
      .catch((e) => live && setRowsError(e));
    return () => {
      live = false;
    };
  }, [report]);
  const [downloadError, setDownloadError] = useState<unknown>(null);
  const [downloading, setDownloading] = useState(false);
  const chartEl = useRef<HTMLDivElement>(null);
  // The chart's code comes while the report is read, not after.
  useEffect(() => void loadCharts(), []);

  useEffect(() => {
    if (!report || !chartEl.current) return;
    let dispose: (() => void) | undefined;
    const bars = order.map((s) => ({
      name: label(s),
      value: Number(report.byStatus.find((b) => b.status === s)?.teachers ?? 0),
      color: statusColors[s],
    }));
    drawBars(chartEl.current, '各状态教师人数', bars).then((d) => (dispose = d));
    return () => dispose?.();
  }, [report]);

  async function download() {
    setDownloadError(null);
    setDownloading(true);
    try {
      const response = await raw(`/v1/counties/${county}/training-compliance`, {
        query: { schoolId: school },
        accept: 'text/csv',
      });
      const name = dispositionName(response.headers.get('Content-Disposition'), 'training-compliance.csv');
      saveBlob(await response.blob(), name);
    } catch (e) {
      setDownloadError(e);
    } finally {
      setDownloading(false);
    }
  }

  const behind = (rows ?? [])
    .filter((r) => r.status === 'TRAINING_STATUS_BEHIND' || r.status === 'TRAINING_STATUS_AT_RISK')
    .sort((a, b) => b.shortfallHours - a.shortfallHours);

  return (
    <section aria-labelledby="training-h">
      <h2 id="training-h">继续教育学时达标</h2>
      <div class="toolbar">
        {!fixedSchool && <SchoolPicker county={county} value={school} onChange={setSchool} allowAll />}
        <button type="button" onClick={download} disabled={downloading} aria-label="下载达标情况 CSV">
          {downloading ? '正在生成…' : '下载 CSV'}
        </button>
      </div>
      <ErrorBox error={error ?? rowsError ?? downloadError} />
      {loading && <Busy label="正在读取达标情况" />}
      {report && (
        <>
          <p class="figures" data-testid="training-figures">
            截至 {report.asOf}，共 <strong>{report.teachers}</strong> 名教师，达标率{' '}
            <strong>{report.completionPercent.toFixed(1)}%</strong>
          </p>
          <ul class="counts">
            {order.map((s) => (
              <li key={s} style={{ borderColor: statusColors[s] }}>
                <span>{label(s)}</span>
                <strong>{report.byStatus.find((b) => b.status === s)?.teachers ?? 0}</strong>
              </li>
            ))}
          </ul>
          <div class="chart" ref={chartEl} role="img" aria-label="各状态教师人数柱状图" />
          <h3>进度落后或有风险的教师{rows ? `（${behind.length}）` : ''}</h3>
          {!rows && !rowsError && <Busy label="正在读取每位教师的学时" />}
          <div class="scroll">
            <table>
              <thead>
                <tr>
                  <th scope="col">教师</th>
                  <th scope="col">状态</th>
                  <th scope="col">已计学时</th>
                  <th scope="col">应达进度</th>
                  <th scope="col">缺口</th>
                  <th scope="col">周期剩余</th>
                </tr>
              </thead>
              <tbody>
                {behind.slice(0, 200).map((r) => (
                  <tr key={r.teacherId}>
                    <td>{r.teacherName || r.teacherId}</td>
                    <td>{label(r.status)}</td>
                    <td>{hours(r.countedHours)}</td>
                    <td>{hours(r.expectedHours)}</td>
                    <td class="bad">{hours(r.shortfallHours)}</td>
                    <td>{r.daysLeft} 天</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {behind.length > 200 && <p class="muted">只列出缺口最大的 200 人；完整名单请下载 CSV。</p>}
        </>
      )}
    </section>
  );
}
