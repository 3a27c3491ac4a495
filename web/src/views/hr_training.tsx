// County HR: training compliance of the county or one school: counts by status, a chart, the
// teachers behind with their shortfall, and the CSV download.
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { call, raw } from '../api';
import { drawBars, loadCharts } from '../chart';
import { hours, label } from '../labels';
import { Busy, ErrorBox, Field, dispositionName, saveBlob, useLoad } from '../ui';
import { SchoolPicker, countySchools } from './schools';

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

// The report's rows are the teachers behind or at risk, shortfall largest first: the first page
// is the top of the list, so the dashboard reads one small page and draws; more on request.
const pageSize = 100;

const firstPage = (county: string, school: string) =>
  call<Report>(reportPath(county), { query: { schoolId: school, 'page.pageSize': pageSize } }).then((r) => {
    // The browser test's figures: when the report came, against when it was drawn.
    performance.mark('report-received');
    return r;
  });

// The county's first page asked for by the sign-in form as soon as the token comes (and the
// schools for the picker), so the dashboard's reads overlap the page's own start; taken once.
let early: { county: string; report: Promise<Report> } | null = null;

export function prefetchTrainingCompliance(county: string): void {
  const report = firstPage(county, '');
  report.catch(() => undefined); // the view asks again and shows the error
  early = { county, report };
  void countySchools(county).catch(() => undefined);
  // Unused (another first view): dropped, so a later visit reads fresh figures.
  setTimeout(() => {
    if (early?.report === report) early = null;
  }, 5000);
}

function takeFirstPage(county: string, school: string): Promise<Report> {
  const hit = early;
  early = null;
  if (hit && hit.county === county && !school) return hit.report.catch(() => firstPage(county, school));
  return firstPage(county, school);
}

// The chart of the counts by status, drawn when `report` comes (ECharts, its own chunk: the
// numbers above it are drawn first). Its code starts loading when the view mounts.
function useStatusChart(report: Report | null) {
  const chartEl = useRef<HTMLDivElement>(null);
  useEffect(() => void loadCharts(), []);
  useEffect(() => {
    if (report) performance.mark('numbers-drawn');
  }, [report]);
  // A layout effect: the chart is drawn before the browser paints the numbers, in one frame,
  // not a frame after them.
  useLayoutEffect(() => {
    if (!report || !chartEl.current) return;
    let dispose: (() => void) | undefined;
    let live = true;
    const bars = order.map((s) => ({
      name: label(s),
      value: Number(report.byStatus.find((b) => b.status === s)?.teachers ?? 0),
      color: statusColors[s],
    }));
    drawBars(chartEl.current, '各状态教师人数', bars).then((d) => (live ? (dispose = d) : d()));
    return () => {
      live = false;
      dispose?.();
    };
  }, [report]);
  return chartEl;
}

// The whole report as CSV (every row), saved under the name the service gives.
function useCsvDownload(county: string, school: string): [() => Promise<void>, boolean, unknown] {
  const [error, setError] = useState<unknown>(null);
  const [downloading, setDownloading] = useState(false);
  async function download() {
    setError(null);
    setDownloading(true);
    try {
      const response = await raw(reportPath(county), { query: { schoolId: school }, accept: 'text/csv' });
      const name = dispositionName(response.headers.get('Content-Disposition'), 'training-compliance.csv');
      saveBlob(await response.blob(), name);
    } catch (e) {
      setError(e);
    } finally {
      setDownloading(false);
    }
  }
  return [download, downloading, error];
}

function BehindTable({ rows }: { rows: Row[] }) {
  return (
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
          {rows.map((r) => (
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
  );
}

export function TrainingCompliance({ county, fixedSchool }: { county: string; fixedSchool?: string }) {
  const [school, setSchool] = useState(fixedSchool ?? '');
  const [report, error, loading] = useLoad(() => takeFirstPage(county, school), [county, school]);
  const [more, setMore] = useState<{ rows: Row[]; token: string } | null>(null);
  const [moreError, setMoreError] = useState<unknown>(null);
  const [loadingMore, setLoadingMore] = useState(false);
  useEffect(() => setMore(null), [report]);
  const [download, downloading, downloadError] = useCsvDownload(county, school);
  const chartEl = useStatusChart(report);

  async function showMore() {
    const token = more ? more.token : report?.page?.nextPageToken;
    if (!token) return;
    setLoadingMore(true);
    setMoreError(null);
    try {
      const next = await call<Report>(reportPath(county), { query: { schoolId: school, 'page.pageSize': pageSize, 'page.pageToken': token } });
      setMore({ rows: [...(more?.rows ?? []), ...next.rows], token: next.page?.nextPageToken ?? '' });
    } catch (e) {
      setMoreError(e);
    } finally {
      setLoadingMore(false);
    }
  }

  const behind = [...(report?.rows ?? []), ...(more?.rows ?? [])];
  const behindTotal = Number(report?.page?.totalSize ?? behind.length);
  const moreToken = more ? more.token : report?.page?.nextPageToken;

  return (
    <section aria-labelledby="training-h">
      <h2 id="training-h">继续教育学时达标</h2>
      <div class="toolbar">
        {!fixedSchool && <SchoolPicker county={county} value={school} onChange={setSchool} allowAll />}
        <button type="button" onClick={download} disabled={downloading} aria-label="下载达标情况 CSV">
          {downloading ? '正在生成…' : '下载 CSV'}
        </button>
      </div>
      <ErrorBox error={error ?? moreError ?? downloadError} />
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
          <h3>进度落后或有风险的教师（{behindTotal}）</h3>
          <BehindTable rows={behind} />
          {moreToken && (
            <p class="muted">
              已列出缺口最大的 {behind.length} 人，共 {behindTotal} 人；完整名单请下载 CSV。{' '}
              <button type="button" onClick={showMore} disabled={loadingMore}>
                {loadingMore ? '正在读取…' : `再列出 ${pageSize} 人`}
              </button>
            </p>
          )}
        </>
      )}
    </section>
  );
}
