// Mentorship (双导师, 师徒结对): for HR and school admins, the new teachers still lacking a mentor
// and the service's suggested pairings, accepted one at a time or all at once; for a teacher,
// their pairings and each term's progress.
import { useState } from 'preact/hooks';
import { call, newRequestKey } from '../api';
import { label } from '../labels';
import { Busy, ErrorBox, Field, useLoad } from '../ui';
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
  menteeName: string;
  mentorName: string;
  startDate: string;
  plannedEndDate: string;
}
interface Progress {
  pairing: Pairing;
  menteeYear: number;
  stageGoalText: string;
  terms: Array<{ term: string; counts: Array<{ kind: string; count: number; required: number; met: boolean }>; grade: string; onTrack: boolean }>;
}

export function MyMentorship({ teacherId }: { teacherId: string }) {
  const [pairings, error, loading] = useLoad(
    () => call<{ pairings: Pairing[] }>(`/v1/teachers/${teacherId}/pairings`, { query: { includeEnded: true } }),
    [teacherId],
  );
  const [progress, progressError] = useLoad(
    () => call<{ pairings: Progress[] }>(`/v1/teachers/${teacherId}/mentorship-progress`),
    [teacherId],
  );
  return (
    <section aria-labelledby="mypair-h">
      <h2 id="mypair-h">我的结对</h2>
      <ErrorBox error={error ?? progressError} />
      {loading && <Busy label="正在读取结对" />}
      {pairings && pairings.pairings.length === 0 && <p>目前没有结对。</p>}
      <ul>
        {(pairings?.pairings ?? []).map((p) => (
          <li key={p.pairingId}>
            {p.menteeId === teacherId ? `导师 ${p.mentorName}` : `徒弟 ${p.menteeName}`}（{label(p.role)}，{label(p.kind)}）{p.startDate} 至{' '}
            {p.plannedEndDate}，{label(p.state)}
          </li>
        ))}
      </ul>
      {(progress?.pairings ?? []).map((pp) => (
        <div key={pp.pairing.pairingId}>
          <h3>
            {label(pp.pairing.role)} {pp.pairing.mentorName}：第 {pp.menteeYear} 年，{pp.stageGoalText}
          </h3>
          {pp.terms.map((t) => (
            <p key={t.term}>
              {t.term}：{t.counts.map((c) => `${label(c.kind)} ${c.count}/${c.required}`).join('，')}
              {t.grade && t.grade !== 'EVALUATION_GRADE_UNSPECIFIED' ? `，考核 ${label(t.grade)}` : ''}
              {t.onTrack ? '' : '（进度落后）'}
            </p>
          ))}
        </div>
      ))}
    </section>
  );
}
