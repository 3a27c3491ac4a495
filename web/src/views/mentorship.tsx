// Mentorship (双导师, 师徒结对): for HR and school admins, the new teachers still lacking a mentor
// and the service's suggested pairings, accepted one at a time or all at once; for a teacher,
// their pairings (as mentee or mentor), each term's progress, and logging what they did.
import { useState } from 'preact/hooks';
import { call, newRequestKey } from '../api';
import { label } from '../labels';
import { Busy, DateField, ErrorBox, Field, today, useLoad } from '../ui';
import { countySchools, schoolName } from './schools';

interface Unpaired {
  teacherId: string;
  name: string;
  schoolId: string;
  subjects: string[];
  year: number;
  lacksTeaching: boolean;
  lacksSecond: boolean;
}
interface Suggestion {
  menteeId: string;
  menteeName: string;
  menteeSchoolId: string;
  role: string;
  mentorId: string;
  mentorName: string;
  mentorSchoolId: string;
  why: string;
}
interface Suggestions {
  startDate: string;
  suggestions: Suggestion[];
  leftOut: Array<{ menteeId: string; menteeName: string; why: string }>;
  menteesNeeding: number;
}
interface Refusal {
  message: string;
  field: string;
}

const roles = ['PAIRING_ROLE_TEACHING', 'PAIRING_ROLE_SECOND'];

export function MentorshipPlanner({ county, schoolId }: { county: string; schoolId?: string }) {
  const [role, setRole] = useState(roles[0]);
  const [unpaired, unpairedError, unpairedLoading, reloadUnpaired] = useLoad(
    () =>
      call<{ teachers: Unpaired[]; lackingTeaching: string; lackingSecond: string }>(`/v1/counties/${county}/unpaired-teachers`, {
        query: { schoolId, 'page.pageSize': 200 },
      }),
    [county, schoolId],
  );
  const [suggested, error, loading] = useLoad(
    () => call<Suggestions>(`/v1/counties/${county}/pairing-suggestions`, { query: { role, schoolId } }),
    [county, schoolId, role],
  );
  const [schools] = useLoad(() => countySchools(county), [county]);
  const [outcomes, setOutcomes] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState(false);
  const [actionError, setActionError] = useState<unknown>(null);
  const key = (s: Suggestion) => `${s.menteeId}/${s.role}`;

  async function accept(list: Suggestion[]) {
    setBusy(true);
    setActionError(null);
    try {
      const answer = await call<{ rows: Array<{ index: number; pairing?: unknown; refusal?: Refusal }> }>('/v1/pairings:batchCreate', {
        body: {
          pairings: list.map((s) => ({
            kind: 'PAIRING_KIND_NEW_TEACHER',
            role: s.role,
            menteeId: s.menteeId,
            mentorId: s.mentorId,
            startDate: suggested?.startDate,
          })),
        },
        idempotencyKey: newRequestKey(),
      });
      const next = { ...outcomes };
      for (const row of answer.rows) {
        next[key(list[row.index ?? 0])] = row.refusal ? `未结对：${row.refusal.message}` : '已结对';
      }
      setOutcomes(next);
      reloadUnpaired();
    } catch (e) {
      setActionError(e);
    } finally {
      setBusy(false);
    }
  }

  const open = (suggested?.suggestions ?? []).filter((s) => !outcomes[key(s)]);
  return (
    <section aria-labelledby="mentor-h">
      <h2 id="mentor-h">师徒结对</h2>
      <ErrorBox error={unpairedError ?? error ?? actionError} />
      {unpairedLoading && <Busy label="正在查找尚无导师的新教师" />}
      {unpaired && (
        <p class="figures" data-testid="unpaired-figures">
          缺教学导师 <strong>{unpaired.lackingTeaching}</strong> 人，缺第二导师 <strong>{unpaired.lackingSecond}</strong> 人。
        </p>
      )}
      <div class="toolbar">
        <Field label="导师类型">
          <select value={role} onChange={(e) => setRole((e.target as HTMLSelectElement).value)}>
            {roles.map((r) => (
              <option key={r} value={r}>
                {label(r)}
              </option>
            ))}
          </select>
        </Field>
        <button type="button" data-action="accept-all" disabled={busy || open.length === 0} onClick={() => accept(open)}>
          全部接受（{open.length}）
        </button>
      </div>
      {loading && <Busy label="正在生成结对建议" />}
      {suggested && suggested.suggestions.length === 0 && <p>没有可建议的结对。</p>}
      {suggested && suggested.suggestions.length > 0 && (
        <div class="scroll">
          <table>
            <thead>
              <tr>
                <th scope="col">新教师</th>
                <th scope="col">建议导师</th>
                <th scope="col">理由</th>
                <th scope="col">操作</th>
              </tr>
            </thead>
            <tbody>
              {suggested.suggestions.map((s) => (
                <tr key={key(s)} data-suggestion={s.menteeId}>
                  <td>
                    {s.menteeName}
                    <br />
                    <small class="muted">{schoolName(schools, s.menteeSchoolId)}</small>
                  </td>
                  <td>
                    {s.mentorName}
                    <br />
                    <small class="muted">{schoolName(schools, s.mentorSchoolId)}</small>
                  </td>
                  <td>{s.why}</td>
                  <td class="outcome">
                    {outcomes[key(s)] ?? (
                      <button type="button" disabled={busy} onClick={() => accept([s])} aria-label={`接受 ${s.menteeName} 与 ${s.mentorName} 结对`}>
                        接受
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {suggested && suggested.leftOut.length > 0 && (
        <>
          <h3>暂无合适导师（{suggested.leftOut.length}）</h3>
          <ul>
            {suggested.leftOut.map((l) => (
              <li key={l.menteeId}>
                {l.menteeName}：{l.why}
              </li>
            ))}
          </ul>
        </>
      )}
    </section>
  );
}

interface Pairing {
  pairingId: string;
  role: string;
  kind: string;
  state: string;
  menteeId: string;
  mentorId: string;
  menteeName: string;
  mentorName: string;
  startDate: string;
  plannedEndDate: string;
}
interface KindCount {
  kind: string;
  count: number;
  required: number;
  expected: number;
  met: boolean;
}
interface TermProgress {
  term: string;
  firstDay: string;
  lastDay: string;
  counts: KindCount[];
  grade: string;
  remarks: string;
  onTrack: boolean;
  complete: boolean;
}
interface PairingProgress {
  pairing: Pairing;
  menteeYear: number;
  stageGoalText: string;
  terms: TermProgress[];
}

const activityKinds = [
  'ACTIVITY_KIND_LESSON_OBSERVED',
  'ACTIVITY_KIND_LESSON_COACHED',
  'ACTIVITY_KIND_PUBLIC_LESSON',
  'ACTIVITY_KIND_GUIDANCE_SESSION',
  'ACTIVITY_KIND_TERM_EVALUATION',
];
const grades = ['EVALUATION_GRADE_EXCELLENT', 'EVALUATION_GRADE_GOOD', 'EVALUATION_GRADE_PASS', 'EVALUATION_GRADE_FAIL'];

// A teacher's pairings, as mentee or as mentor: each one's progress term by term (GetProgress)
// and, while it is active, a form to log what the two of them did (LogActivity).
export function MyMentorship({ teacherId }: { teacherId: string }) {
  const [pairings, error, loading] = useLoad(
    () => call<{ pairings?: Pairing[] }>(`/v1/teachers/${teacherId}/pairings`, { query: { includeEnded: true } }),
    [teacherId],
  );
  const list = pairings?.pairings ?? [];
  return (
    <section aria-labelledby="mypair-h">
      <h2 id="mypair-h">我的结对</h2>
      <ErrorBox error={error} />
      {loading && <Busy label="正在读取结对" />}
      {pairings && list.length === 0 && <p>目前没有结对。新教师的导师由学校或教育局安排。</p>}
      {list.map((p) => (
        <PairingCard key={p.pairingId} pairing={p} teacherId={teacherId} />
      ))}
    </section>
  );
}

function PairingCard({ pairing: p, teacherId }: { pairing: Pairing; teacherId: string }) {
  const [progress, error, loading, reload] = useLoad(
    () => call<{ asOf: string; progress: PairingProgress }>(`/v1/pairings/${p.pairingId}/progress`),
    [p.pairingId],
  );
  const asMentee = p.menteeId === teacherId;
  const pp = progress?.progress;
  return (
    <article class="pairing" data-pairing={p.pairingId} aria-label={`结对 ${asMentee ? p.mentorName : p.menteeName}`}>
      <h3>
        {asMentee ? `我的导师：${p.mentorName || p.mentorId}` : `我带的徒弟：${p.menteeName || p.menteeId}`}
        <span class="tag">{p.role && p.role !== 'PAIRING_ROLE_UNSPECIFIED' ? label(p.role) : label(p.kind)}</span>
        <span class="tag">{label(p.state)}</span>
      </h3>
      <p class="muted">
        {p.startDate} 至 {p.plannedEndDate || '—'}
        {pp ? `；徒弟第 ${pp.menteeYear} 年，目标：${pp.stageGoalText}` : ''}
      </p>
      <ErrorBox error={error} />
      {loading && <Busy label="正在读取进度" />}
      {pp && <TermTable terms={pp.terms} />}
      {p.state === 'PAIRING_STATE_ACTIVE' && <LogActivity pairing={p} asMentee={asMentee} onLogged={reload} />}
    </article>
  );
}

// A term as a person says it: "2026-2027-1" is 2026-2027 学年第一学期.
export function termName(term: string): string {
  const m = term.match(/^(\d{4}-\d{4})-([12])$/);
  return m ? `${m[1]} 学年第${m[2] === '1' ? '一' : '二'}学期` : term;
}

function TermTable({ terms }: { terms: TermProgress[] }) {
  if (terms.length === 0) return <p>还没有到第一个学期。</p>;
  return (
    <div class="scroll">
      <table class="progress-table stack" role="table">
        <thead>
          <tr>
            <th scope="col">学期</th>
            {terms[terms.length - 1].counts.map((c) => (
              <th scope="col" key={c.kind}>
                {label(c.kind)}
              </th>
            ))}
            <th scope="col">考核</th>
            <th scope="col">进度</th>
          </tr>
        </thead>
        <tbody>
          {[...terms].reverse().map((t) => (
            <tr key={t.term} data-term={t.term}>
              <td class="stack-head">{termName(t.term)}</td>
              {t.counts.map((c) => (
                <td key={c.kind} class={c.count < c.expected ? 'bad' : ''} data-label={label(c.kind)} data-kind={c.kind} data-count={c.count}>
                  {c.count}
                  {c.required ? ` / ${c.required}` : ''}
                </td>
              ))}
              <td data-label="考核">{t.grade && t.grade !== 'EVALUATION_GRADE_UNSPECIFIED' ? label(t.grade) : '—'}</td>
              <td data-label="进度">{t.complete ? '已完成' : t.onTrack ? '进度正常' : <span class="bad">进度落后</span>}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p class="muted">数字为“已做 / 本学期要求”；红色表示少于按已过天数应做的次数。</p>
    </div>
  );
}

// The term evaluation is the mentor's to give (the service refuses it from the mentee), so a
// mentee's form does not offer it.
function LogActivity({ pairing, asMentee, onLogged }: { pairing: Pairing; asMentee: boolean; onLogged: () => void }) {
  const kinds = asMentee ? activityKinds.filter((k) => k !== 'ACTIVITY_KIND_TERM_EVALUATION') : activityKinds;
  const [kind, setKind] = useState(kinds[0]);
  const [date, setDate] = useState(today());
  const [grade, setGrade] = useState('');
  const [remarks, setRemarks] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState('');
  const evaluation = kind === 'ACTIVITY_KIND_TERM_EVALUATION';
  async function submit(e: Event) {
    e.preventDefault();
    setError(null);
    setDone('');
    setBusy(true);
    try {
      const activity = { kind, date, remarks: remarks.trim(), ...(evaluation ? { grade } : {}) };
      const r = await call<{ activity: { term: string } }>(`/v1/pairings/${pairing.pairingId}/activities`, {
        body: { requestId: newRequestKey(), activity },
      });
      setDone(`已记录：${label(kind)}（${date}，${termName(r.activity.term)}）`);
      setRemarks('');
      onLogged();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }
  const set = (f: (v: string) => void) => (e: Event) => f((e.target as HTMLInputElement).value);
  return (
    <form class="form" onSubmit={submit} aria-label="记录结对活动">
      <Field label="活动类型">
        <select name="kind" value={kind} onChange={set(setKind)}>
          {kinds.map((k) => (
            <option key={k} value={k}>
              {label(k)}
            </option>
          ))}
        </select>
      </Field>
      <DateField label="日期" name="date" value={date} max={today()} onValue={setDate} required />
      {evaluation && (
        <Field label="考核等次">
          <select name="grade" value={grade} onChange={set(setGrade)} required>
            <option value="">请选择</option>
            {grades.map((g) => (
              <option key={g} value={g}>
                {label(g)}
              </option>
            ))}
          </select>
        </Field>
      )}
      <Field label={evaluation ? '评语' : '备注（可不填）'}>
        <input name="remarks" value={remarks} onInput={set(setRemarks)} maxLength={500} />
      </Field>
      <button type="submit" disabled={busy}>
        {busy ? '正在记录…' : '记录活动'}
      </button>
      <ErrorBox error={error} />
      {done && (
        <p class="ok" role="status">
          {done}
        </p>
      )}
    </form>
  );
}
