// County HR: the self-report review queue, county-wide or for one school, read in one call per
// 500 records from the training service's per-county queue (ListPendingSelfReports, oldest
// submitted first); approves or rejects the selected records, several at once, a reason required
// to reject.
import { useEffect, useState } from 'preact/hooks';
import { call, eachLimited, newRequestKey } from '../api';
import { hours, label } from '../labels';
import { Busy, ErrorBox, Field, Progress, useLoad } from '../ui';
import { School, SchoolPicker, countySchools, schoolName } from './schools';

interface TrainingRecord {
  recordId: string;
  teacherId: string;
  title: string;
  activity: string;
  level: string;
  mode: string;
  hours: number;
  startedOn: string;
  completedOn: string;
  evidence?: { description: string; fileRef: string };
  state: string;
}
interface Teacher {
  teacherId: string;
  name: string;
  schoolId: string;
}
interface Item {
  record: TrainingRecord;
  teacher: Teacher;
  outcome?: string;
  error?: unknown;
}
interface PendingSelfReport {
  teacherId: string;
  teacherName?: string;
  schoolId?: string;
  record: TrainingRecord;
}

// Every pending self-report of `scope` (a school, or '' for the county), a page at a time.
async function pendingOf(county: string, scope: string): Promise<Item[]> {
  const out: Item[] = [];
  let token = '';
  do {
    const page = await call<{ reports?: PendingSelfReport[]; page?: { nextPageToken?: string } }>(
      `/v1/counties/${county}/pending-self-reports`,
      { query: { schoolId: scope, 'page.pageSize': 500, 'page.pageToken': token } },
    );
    for (const r of page.reports ?? []) {
      out.push({
        record: r.record,
        // A teacher the service's copy has no name for is shown by id.
        teacher: { teacherId: r.teacherId, name: r.teacherName || r.teacherId, schoolId: r.schoolId ?? '' },
      });
    }
    token = page.page?.nextPageToken ?? '';
  } while (token);
  return out;
}

type Decision = 'REVIEW_DECISION_APPROVE' | 'REVIEW_DECISION_REJECT';

async function review(item: Item, decision: Decision, reason: string) {
  try {
    await call(`/v1/training-records/${item.record.recordId}:review`, {
      body: { decision, reason },
      idempotencyKey: newRequestKey(),
    });
    item.outcome = decision === 'REVIEW_DECISION_APPROVE' ? '已批准，学时已计入' : `已驳回：${reason}`;
  } catch (e) {
    item.error = e;
  }
}

export function ReviewQueue({ county }: { county: string }) {
  const [school, setSchool] = useState('');
  const [scanned, setScanned] = useState<{ scope: string } | null>(null);
  const [loading, setLoading] = useState(false);
  const [items, setItems] = useState<Item[] | null>(null);
  const [progress, setProgress] = useState<[number, number] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const [schools] = useLoad(() => countySchools(county), [county]);

  async function scan() {
    const scope = school;
    setError(null);
    setItems(null);
    setScanned(null);
    setSelected(new Set());
    setLoading(true);
    try {
      const found = await pendingOf(county, scope);
      setItems(found);
      setScanned({ scope });
    } catch (e) {
      setError(e);
    } finally {
      setLoading(false);
    }
  }

  // The county's queue is one cheap read (the service's index): listed as the view opens.
  useEffect(() => {
    scan();
  }, [county]);

  async function decide(decision: Decision) {
    if (!items) return;
    if (decision === 'REVIEW_DECISION_REJECT' && !reason.trim()) {
      setError(new Error('驳回时请填写理由，教师会看到它。'));
      return;
    }
    setError(null);
    setBusy(true);
    const chosen = items.filter((i) => selected.has(i.record.recordId));
    await eachLimited(chosen, 4, (item) => review(item, decision, reason.trim()), (done, total) => setProgress([done, total]));
    setProgress(null);
    setSelected(new Set());
    setItems([...items]);
    setBusy(false);
  }

  const shown = (items ?? []).filter((i) => !school || i.teacher.schoolId === school);
  const scanning = loading;
  return (
    <section aria-labelledby="reviews-h">
      <h2 id="reviews-h">自报学时审核</h2>
      <div class="toolbar">
        <SchoolPicker
          county={county}
          value={school}
          onChange={(id) => {
            // What is selected stays in sight: a decision never reaches a row the filter hides.
            setSelected(new Set());
            setSchool(id);
          }}
          allowAll
        />
        <button type="button" data-action="scan" onClick={scan} disabled={loading || busy}>
          {school ? '列出本校待审核记录' : scanned ? '重新列出全县待审核记录' : '列出全县待审核记录'}
        </button>
      </div>
      {loading && <Busy label="正在读取待审核记录" />}
      {progress && <Progress done={progress[0]} total={progress[1]} label="正在提交审核" />}
      <ErrorBox error={error} />
      {scanned && (
        <p data-testid="scan-summary">
          {scanned.scope ? schoolName(schools, scanned.scope) : '全县'}待审核 {items?.filter((i) => !i.outcome && !i.error).length ?? 0} 条（按提交先后排列）
          {school && scanned.scope === '' ? `，其中本校 ${shown.filter((i) => !i.outcome && !i.error).length} 条` : ''}。
        </p>
      )}
      {scanned && scanned.scope !== '' && school !== scanned.scope && <p>这所学校的记录还没有列出，请点“列出”。</p>}
      {!scanning && scanned && shown.length === 0 && (school === scanned.scope || scanned.scope === '') && <p>{school ? '本校' : '全县'}没有待审核的自报学时。</p>}
      {shown.length > 0 && (
        <QueueTable items={shown} schools={schools} selected={selected} setSelected={setSelected} />
      )}
      {shown.length > 0 && <DecisionBar busy={busy} count={selected.size} reason={reason} setReason={setReason} decide={decide} />}
    </section>
  );
}

function DecisionBar(props: { busy: boolean; count: number; reason: string; setReason: (r: string) => void; decide: (d: Decision) => void }) {
  const { busy, count, reason, setReason, decide } = props;
  return (
    <div class="toolbar">
      <Field label="驳回理由（驳回时必填，教师会看到）">
        <input name="reason" value={reason} onInput={(e) => setReason((e.target as HTMLInputElement).value)} maxLength={200} />
      </Field>
      <button type="button" data-action="approve" disabled={busy || count === 0} onClick={() => decide('REVIEW_DECISION_APPROVE')}>
        批准所选（{count}）
      </button>
      <button type="button" class="danger" data-action="reject" disabled={busy || count === 0} onClick={() => decide('REVIEW_DECISION_REJECT')}>
        驳回所选（{count}）
      </button>
    </div>
  );
}

function QueueTable(props: { items: Item[]; schools: School[] | null; selected: Set<string>; setSelected: (s: Set<string>) => void }) {
  const { items, schools, selected, setSelected } = props;
  const open = items.filter((i) => !i.outcome && !i.error);
  const toggle = (id: string) => {
    const next = new Set(selected);
    next.has(id) ? next.delete(id) : next.add(id);
    setSelected(next);
  };
  return (
    <div class="scroll">
      <table>
        <thead>
          <tr>
            <th scope="col">
              <input
                type="checkbox"
                aria-label="全选列出的待审核记录"
                data-action="select-all"
                checked={open.length > 0 && open.every((i) => selected.has(i.record.recordId))}
                onChange={(e) => setSelected((e.target as HTMLInputElement).checked ? new Set(open.map((i) => i.record.recordId)) : new Set())}
              />
            </th>
            <th scope="col">教师</th>
            <th scope="col">学校</th>
            <th scope="col">内容</th>
            <th scope="col">学时</th>
            <th scope="col">日期</th>
            <th scope="col">佐证</th>
            <th scope="col">结果</th>
          </tr>
        </thead>
        <tbody>
          {items.map((i) => (
            <tr key={i.record.recordId} data-record={i.record.recordId} data-school={i.teacher.schoolId} data-teacher={i.teacher.teacherId}>
              <td>
                {!i.outcome && !i.error && (
                  <input
                    type="checkbox"
                    aria-label={`选择 ${i.teacher.name} 的“${i.record.title}”`}
                    checked={selected.has(i.record.recordId)}
                    onChange={() => toggle(i.record.recordId)}
                  />
                )}
              </td>
              <td>{i.teacher.name}</td>
              <td>{schoolName(schools, i.teacher.schoolId)}</td>
              <td>
                {i.record.title}
                <br />
                <small class="muted">
                  {label(i.record.activity)} · {label(i.record.level)} · {label(i.record.mode)}
                </small>
              </td>
              <td>{hours(i.record.hours)}</td>
              <td>{i.record.completedOn}</td>
              <td>{i.record.evidence?.description ?? '—'}</td>
              <td class="outcome">{i.outcome ?? (i.error ? <ErrorBox error={i.error} /> : '待审核')}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
