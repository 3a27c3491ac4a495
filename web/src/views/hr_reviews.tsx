// County HR: the self-report review queue. The training service lists records per teacher
// (ListTrainingRecords), so the queue reads one school's teachers at a time, with progress,
// and approves or rejects the selected records, several at once, a reason required to reject.
import { useState } from 'preact/hooks';
import { call, eachLimited, newRequestKey } from '../api';
import { hours, label } from '../labels';
import { ErrorBox, Field, Progress } from '../ui';
import { SchoolPicker } from './schools';

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
}
interface Item {
  record: TrainingRecord;
  teacher: Teacher;
  outcome?: string;
  error?: unknown;
}

async function schoolTeachers(county: string, schoolId: string): Promise<Teacher[]> {
  const out: Teacher[] = [];
  let token = '';
  do {
    const page = await call<{ teachers: Teacher[]; page: { nextPageToken: string } }>(`/v1/counties/${county}/teachers`, {
      query: { schoolId, 'page.pageSize': 500, 'page.pageToken': token },
    });
    out.push(...page.teachers);
    token = page.page?.nextPageToken ?? '';
  } while (token);
  return out;
}

export function ReviewQueue({ county }: { county: string }) {
  const [school, setSchool] = useState('');
  const [items, setItems] = useState<Item[] | null>(null);
  const [progress, setProgress] = useState<[number, number] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);

  async function scan() {
    setError(null);
    setItems(null);
    setSelected(new Set());
    try {
      const teachers = await schoolTeachers(county, school);
      const found = await eachLimited(
        teachers,
        4,
        async (teacher) => {
          const page = await call<{ records: TrainingRecord[] }>(`/v1/teachers/${teacher.teacherId}/training-records`, {
            query: { state: 'TRAINING_RECORD_STATE_AWAITING_REVIEW', 'page.pageSize': 100 },
          });
          return page.records.map((record) => ({ record, teacher }));
        },
        (done, total) => setProgress([done, total]),
      );
      setItems(found.flat());
    } catch (e) {
      setError(e);
    } finally {
      setProgress(null);
    }
  }

  async function decide(decision: 'REVIEW_DECISION_APPROVE' | 'REVIEW_DECISION_REJECT') {
    if (!items) return;
    if (decision === 'REVIEW_DECISION_REJECT' && !reason.trim()) {
      setError(new Error('驳回时请填写理由，教师会看到它。'));
      return;
    }
    setError(null);
    setBusy(true);
    const chosen = items.filter((i) => selected.has(i.record.recordId));
    await eachLimited(
      chosen,
      4,
      async (item) => {
        try {
          await call(`/v1/training-records/${item.record.recordId}:review`, {
            body: { decision, reason: reason.trim() },
            idempotencyKey: newRequestKey(),
          });
          item.outcome = decision === 'REVIEW_DECISION_APPROVE' ? '已批准，学时已计入' : '已驳回';
        } catch (e) {
          item.error = e;
        }
      },
      (done, total) => setProgress([done, total]),
    );
    setProgress(null);
    setSelected(new Set());
    setItems([...items]);
    setBusy(false);
  }

  const toggle = (id: string) => {
    const next = new Set(selected);
    next.has(id) ? next.delete(id) : next.add(id);
    setSelected(next);
  };
  const open = (items ?? []).filter((i) => !i.outcome && !i.error);

  return (
    <section aria-labelledby="reviews-h">
      <h2 id="reviews-h">自报学时审核</h2>
      <div class="toolbar">
        <SchoolPicker county={county} value={school} onChange={setSchool} />
        <button type="button" data-action="scan" onClick={scan} disabled={!school || !!progress}>
          查找待审核记录
        </button>
      </div>
      {progress && <Progress done={progress[0]} total={progress[1]} label={busy ? '正在提交审核' : '正在逐一查看本校教师'} />}
      <ErrorBox error={error} />
      {items && items.length === 0 && <p>本校没有待审核的自报学时。</p>}
      {items && items.length > 0 && (
        <>
          <div class="scroll">
            <table>
              <thead>
                <tr>
                  <th scope="col">
                    <input
                      type="checkbox"
                      aria-label="全选待审核记录"
                      checked={open.length > 0 && open.every((i) => selected.has(i.record.recordId))}
                      onChange={(e) =>
                        setSelected((e.target as HTMLInputElement).checked ? new Set(open.map((i) => i.record.recordId)) : new Set())
                      }
                    />
                  </th>
                  <th scope="col">教师</th>
                  <th scope="col">内容</th>
                  <th scope="col">学时</th>
                  <th scope="col">日期</th>
                  <th scope="col">佐证</th>
                  <th scope="col">结果</th>
                </tr>
              </thead>
              <tbody>
                {items.map((i) => (
                  <tr key={i.record.recordId} data-record={i.record.recordId}>
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
          <div class="toolbar">
            <Field label="驳回理由（驳回时必填）">
              <input value={reason} onInput={(e) => setReason((e.target as HTMLInputElement).value)} maxLength={200} />
            </Field>
            <button type="button" data-action="approve" disabled={busy || selected.size === 0} onClick={() => decide('REVIEW_DECISION_APPROVE')}>
              批准所选（{selected.size}）
            </button>
            <button type="button" class="danger" disabled={busy || selected.size === 0} onClick={() => decide('REVIEW_DECISION_REJECT')}>
              驳回所选（{selected.size}）
            </button>
          </div>
        </>
      )}
    </section>
  );
}
