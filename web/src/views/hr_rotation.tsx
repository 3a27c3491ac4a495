// County HR: rotation compliance for a school year: the county's figures, each sending school's
// required vs counted and shortfall, and the candidates that would close it.
import { useState } from 'preact/hooks';
import { call, eachLimited } from '../api';
import { label } from '../labels';
import { Busy, ErrorBox, Field, useLoad } from '../ui';

interface Figures {
  eligible: string;
  counting: string;
  percent: number;
  required: string;
  backboneCounting: string;
  backboneRequired: string;
  shortfall: string;
  backboneShortfall: string;
  passes: boolean;
}
interface Compliance {
  schoolYear: string;
  judgedOn: string;
  county?: Figures; // absent for a school admin, who sees only their school
  schools: Array<{ schoolId: string; schoolName: string; figures: Figures }>;
  notCounting: Array<{ rotationId: string; teacherId: string; sendingSchoolId: string; state: string; reason: string }>;
}
interface Candidate {
  rank: number;
  teacherId: string;
  teacherName: string;
  schoolId: string;
  backbone: boolean;
  yearsAtSchool: number;
  why: string;
  receivingSchools: Array<{ schoolId: string; schoolName: string; direction: string }>;
}

// The school year that holds today: it starts on 1 September.
export function currentSchoolYear(): string {
  const now = new Date(Date.now() + 8 * 3600 * 1000);
  const y = now.getUTCMonth() >= 8 ? now.getUTCFullYear() : now.getUTCFullYear() - 1;
  return `${y}-${y + 1}`;
}

function FiguresRow({ f }: { f: Figures }) {
  return (
    <>
      <td>{f.eligible}</td>
      <td>{f.required}</td>
      <td>{f.counting}</td>
      <td class={Number(f.shortfall) > 0 ? 'bad' : ''}>{f.shortfall}</td>
      <td>
        {f.backboneCounting}/{f.backboneRequired}
      </td>
      <td>{f.passes ? '达标' : '未达标'}</td>
    </>
  );
}

// The teachers' names of rotations that do not count (the report names them by id): one read
// each, a few at a time; an id stays where its teacher cannot be read.
async function teacherNames(ids: string[]): Promise<Map<string, string>> {
  const names = await eachLimited(
    [...new Set(ids)],
    4,
    (id) =>
      call<{ teacher: { name: string } }>(`/v1/teachers/${id}`)
        .then((t) => [id, t.teacher.name || id] as const)
        .catch(() => [id, id] as const),
    () => undefined,
  );
  return new Map(names);
}

export function RotationCompliance({ county, schoolId }: { county: string; schoolId?: string }) {
  const [year, setYear] = useState(currentSchoolYear());
  const [report, error, loading] = useLoad(
    () => call<Compliance>(`/v1/counties/${county}/rotation-compliance`, { query: { schoolYear: year } }),
    [county, year],
  );
  const [candidates, candError, candLoading] = useLoad(
    () => call<{ candidates: Candidate[] }>(`/v1/counties/${county}/rotation-candidates`, { query: { schoolYear: year, limit: 50 } }),
    [county, year],
  );
  const schools = (report?.schools ?? []).filter((s) => !schoolId || s.schoolId === schoolId);
  const shortSchools = schools.filter((s) => Number(s.figures.shortfall) > 0 || Number(s.figures.backboneShortfall) > 0);
  const cands = (candidates?.candidates ?? []).filter((c) => !schoolId || c.schoolId === schoolId);
  const notCounting = (report?.notCounting ?? []).filter((v) => !schoolId || v.sendingSchoolId === schoolId);
  const [names] = useLoad(() => teacherNames(notCounting.map((v) => v.teacherId)), [report, schoolId]);
  // The names read for this report (a read for an earlier one stays until the next is done).
  const named = names && notCounting.every((v) => names.has(v.teacherId)) ? names : null;
  return (
    <section aria-labelledby="rotation-h">
      <h2 id="rotation-h">交流轮岗达标</h2>
      <div class="toolbar">
        <Field label="学年">
          <input value={year} pattern="\d{4}-\d{4}" onChange={(e) => setYear((e.target as HTMLInputElement).value)} />
        </Field>
      </div>
      <ErrorBox error={error} />
      {loading && <Busy label="正在计算轮岗比例" />}
      {report && (
        <>
          {report.county && (
            <p class="figures" data-testid="rotation-figures">
              {report.schoolYear} 学年（按 {report.judgedOn} 判定）：全县应交流 {report.county.eligible} 人，需交流{' '}
              {report.county.required} 人，已计入 {report.county.counting} 人（{report.county.percent.toFixed(1)}%），缺口{' '}
              <strong>{report.county.shortfall}</strong> 人。
            </p>
          )}
          {schools.length === 0 && <p>{schoolId ? '本校' : '本县'}不在交流轮岗比例的统计范围内（只统计公办义务教育学校）。</p>}
          <h3>各校情况（未达标 {shortSchools.length} 所）</h3>
          <div class="scroll">
            <table>
              <thead>
                <tr>
                  <th scope="col">学校</th>
                  <th scope="col">应交流</th>
                  <th scope="col">需交流</th>
                  <th scope="col">已计入</th>
                  <th scope="col">缺口</th>
                  <th scope="col">骨干 计入/需</th>
                  <th scope="col">结论</th>
                </tr>
              </thead>
              <tbody>
                {schools.map((s) => (
                  <tr key={s.schoolId}>
                    <td>{s.schoolName || s.schoolId}</td>
                    <FiguresRow f={s.figures} />
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {notCounting.length > 0 && (
            <>
              <h3>未计入的轮岗（{notCounting.length}）</h3>
              {/* Listed once the teachers' names are read: never their ids meanwhile. */}
              {!named && <Busy label="正在读取教师姓名" />}
              {named && (
                <ul>
                  {notCounting.map((v) => (
                    <li key={v.rotationId}>
                      {named.get(v.teacherId) ?? v.teacherId}：{label(v.state)}，{label(v.reason)}
                    </li>
                  ))}
                </ul>
              )}
            </>
          )}
        </>
      )}
      <h3>可补足缺口的人选</h3>
      <ErrorBox error={candError} />
      {candLoading && <Busy label="正在挑选人选" />}
      {candidates && cands.length === 0 && <p>没有需要补足的缺口。</p>}
      {cands.length > 0 && (
        <div class="scroll">
          <table>
            <thead>
              <tr>
                <th scope="col">序</th>
                <th scope="col">教师</th>
                <th scope="col">本校年限</th>
                <th scope="col">理由</th>
                <th scope="col">可去学校</th>
              </tr>
            </thead>
            <tbody>
              {cands.map((c) => (
                <tr key={c.teacherId}>
                  <td>{c.rank}</td>
                  <td>
                    {c.teacherName}
                    {c.backbone && <span class="tag">骨干</span>}
                  </td>
                  <td>{c.yearsAtSchool} 年</td>
                  <td>{c.why}</td>
                  <td>{c.receivingSchools.slice(0, 3).map((r) => r.schoolName).join('、') || '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
