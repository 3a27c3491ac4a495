// A teacher's own views: the growth file as a timeline, the training cycle (hours against pace,
// minimums, what still counts this year), logging a training with its evidence, the rotations.
import { useState } from 'preact/hooks';
import { call, newRequestKey } from '../api';
import { hours, label } from '../labels';
import { Busy, DateField, ErrorBox, Field, today, useLoad } from '../ui';

interface TimelineEntry {
  entryId: string;
  kind: string;
  occurredOn: string;
  summary: string;
  supersededByEntryId: string;
}
interface GrowthFile {
  growthFile: {
    teacher: { name: string; title: string; backboneTier: string; stage: string; subjects: string[]; hireDate: string };
    timeline: TimelineEntry[];
    schoolHistory: Array<{ schoolId: string; schoolName: string; fromDate: string; toDate: string }>;
    asOf: string;
  };
}

// The file's fields as a person names them: a profile change's summary lists the fields changed
// by their names in the API ("档案信息修改：training_cycle_anchor").
const fieldNames: Record<string, string> = {
  national_teacher_id: '全国教师编号',
  name: '姓名',
  sex: '性别',
  birth_date: '出生日期',
  id_card_number: '身份证号',
  hire_date: '参加工作日期',
  school_id: '任职学校',
  school_joined_on: '到校日期',
  stage: '学段',
  subjects: '任教学科',
  staffed: '是否在编',
  post_status: '在岗状态',
  head_teacher_periods: '班主任任职',
  leadership_posts: '领导职务',
  education: '学历',
  qualification: '教师资格',
  training_cycle_anchor: '继续教育周期起点',
  phone: '电话',
  email: '电子邮箱',
  title: '职称',
  title_conferred_on: '职称取得日期',
  backbone_tier: '骨干教师级别',
  backbone_designated_on: '骨干认定日期',
  backbone_review_due_on: '骨干复核日期',
  designations: '荣誉称号',
  honours: '获奖',
  latest_appraisal: '最近考核',
  ethics_veto: '师德一票否决',
  expected_retirement_date: '预计退休日期',
};

// Summaries written before the profile service used the enums' Chinese labels name the value
// ("职称：PROFESSIONAL_TITLE_SENIOR"): said in Chinese here too, and so are changed fields.
const readable = (text: string) =>
  text
    .replace(/\b[A-Z][A-Z0-9]+(?:_[A-Z0-9]+)+\b/g, (name) => label(name))
    .replace(/^(档案信息修改：)(.+)$/, (_, head: string, fields: string) =>
      head + fields.split('、').map((f) => fieldNames[f.split('.')[0]] ?? f).join('、'),
    );

export function GrowthFileView({ teacherId }: { teacherId: string }) {
  const [file, error, loading] = useLoad(() => call<GrowthFile>(`/v1/teachers/${teacherId}/growth-file`), [teacherId]);
  const g = file?.growthFile;
  const entries = (g?.timeline ?? []).filter((e) => !e.supersededByEntryId).sort((a, b) => (a.occurredOn < b.occurredOn ? 1 : -1));
  return (
    <section aria-labelledby="file-h">
      <h2 id="file-h">我的成长档案</h2>
      <ErrorBox error={error} />
      {loading && <Busy label="正在读取档案" />}
      {g && (
        <>
          <p class="figures">
            <strong>{g.teacher.name}</strong> · {label(g.teacher.title)}
            {g.teacher.backboneTier && g.teacher.backboneTier !== 'BACKBONE_TIER_UNSPECIFIED' && ` · ${label(g.teacher.backboneTier)}骨干教师`} ·{' '}
            {(g.teacher.subjects ?? []).join('、')} · {g.teacher.hireDate} 参加工作
          </p>
          <ol class="timeline" aria-label="成长时间线">
            {entries.map((e) => (
              <li key={e.entryId}>
                <time dateTime={e.occurredOn}>{e.occurredOn}</time>
                <span class="tag">{label(e.kind)}</span>
                <span>{readable(e.summary)}</span>
              </li>
            ))}
          </ol>
          <h3>任职学校</h3>
          <ul>
            {(g.schoolHistory ?? []).map((s) => (
              <li key={s.schoolId + s.fromDate}>
                {s.schoolName}：{s.fromDate} 至 {s.toDate || '今'}
              </li>
            ))}
          </ul>
        </>
      )}
    </section>
  );
}

interface Summary {
  summary: {
    asOf: string;
    cycle: { firstDay: string; lastDay: string; daysLeft: number };
    countedHours: number;
    creditedHours: number;
    pendingHours: number;
    requiredHours: number;
    remainingHours: number;
    expectedHours: number;
    status: string;
    shortfallHours: number;
    minimums: Array<{ name: string; requiredHours: number; countedHours: number; expectedHours: number; met: boolean }>;
    years: Array<{ index: number; firstDay: string; lastDay: string; countedHours: number; finished: boolean; minimumMet: boolean }>;
    yearlyMinimumHours: number;
    inductionRequiredHours: number;
    inductionHours: number;
  };
}

export function TrainingCycle({ teacherId }: { teacherId: string }) {
  const [data, error, loading] = useLoad(() => call<Summary>(`/v1/teachers/${teacherId}/training-summary`), [teacherId]);
  const s = data?.summary;
  const thisYear = s?.years.find((y) => y.firstDay <= s.asOf && s.asOf <= y.lastDay);
  return (
    <section aria-labelledby="cycle-h">
      <h2 id="cycle-h">我的培训周期</h2>
      <ErrorBox error={error} />
      {loading && <Busy label="正在计算学时" />}
      {s && (
        <>
          <p class="figures" data-testid="cycle-figures">
            周期 {s.cycle.firstDay} 至 {s.cycle.lastDay}：已计 <strong>{hours(s.countedHours)}</strong> / 应修 {hours(s.requiredHours)}，
            状态 <strong>{label(s.status)}</strong>，还剩 {s.cycle.daysLeft} 天。
          </p>
          <label class="field">
            <span>完成进度</span>
            <progress max={s.requiredHours || 1} value={s.countedHours} />
          </label>
          <p>
            按进度此时应有 {hours(s.expectedHours)}
            {s.countedHours < s.expectedHours ? `，落后进度 ${hours(s.expectedHours - s.countedHours)}` : '，进度正常'}
            {s.remainingHours > 0 ? `；距应修还差 ${hours(s.remainingHours)}` : '；已修满'}；待确认或待审核 {hours(s.pendingHours)}。
          </p>
          {thisYear && (
            <p>
              本年度（{thisYear.firstDay} 至 {thisYear.lastDay}）已计 {hours(thisYear.countedHours)}，每年最低 {hours(s.yearlyMinimumHours)}
              {thisYear.minimumMet ? '，已达到。' : `，还差 ${hours(Math.max(0, s.yearlyMinimumHours - thisYear.countedHours))}。`}
            </p>
          )}
          <h3>分项要求</h3>
          {(s.minimums ?? []).length === 0 && <p>现行政策对各类培训没有分项最低学时要求。</p>}
          <ul>
            {s.minimums.map((m) => (
              <li key={m.name}>
                {m.name}：{hours(m.countedHours)} / {hours(m.requiredHours)} {m.met ? '✓ 已达到' : `（应有 ${hours(m.expectedHours)}）`}
              </li>
            ))}
          </ul>
        </>
      )}
    </section>
  );
}

const activities = [
  'TRAINING_ACTIVITY_RESEARCH_ACTIVITY',
  'TRAINING_ACTIVITY_PUBLIC_LESSON',
  'TRAINING_ACTIVITY_CONFERENCE',
  'TRAINING_ACTIVITY_DEGREE_STUDY',
  'TRAINING_ACTIVITY_OTHER',
];
const levels = ['TRAINING_LEVEL_SCHOOL', 'TRAINING_LEVEL_COUNTY', 'TRAINING_LEVEL_CITY', 'TRAINING_LEVEL_PROVINCE', 'TRAINING_LEVEL_NATIONAL'];
const modes = ['TRAINING_MODE_FACE_TO_FACE', 'TRAINING_MODE_ONLINE', 'TRAINING_MODE_BLENDED', 'TRAINING_MODE_SCHOOL_BASED'];

function Select({ name, value, options, onChange }: { name: string; value: string; options: string[]; onChange: (v: string) => void }) {
  return (
    <Field label={name}>
      <select value={value} onChange={(e) => onChange((e.target as HTMLSelectElement).value)}>
        {options.map((o) => (
          <option key={o} value={o}>
            {label(o)}
          </option>
        ))}
      </select>
    </Field>
  );
}

export function LogTraining({ teacherId }: { teacherId: string }) {
  const [form, setForm] = useState({
    activity: activities[0],
    title: '',
    level: 'TRAINING_LEVEL_COUNTY',
    mode: 'TRAINING_MODE_FACE_TO_FACE',
    hours: '',
    startedOn: today(),
    completedOn: today(),
    evidence: '',
    fileRef: '',
  });
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const set = (k: keyof typeof form) => (v: string) => setForm({ ...form, [k]: v });
  const input = (k: keyof typeof form) => (e: Event) => set(k)((e.target as HTMLInputElement).value);

  async function submit(e: Event) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setDone(null);
    try {
      const answer = await call<{ record: { state: string } }>(`/v1/teachers/${teacherId}/training-records`, {
        body: {
          activity: form.activity,
          title: form.title,
          level: form.level,
          mode: form.mode,
          hours: Number(form.hours),
          startedOn: form.startedOn,
          completedOn: form.completedOn,
          evidence: { description: form.evidence, fileRef: form.fileRef },
        },
        idempotencyKey: newRequestKey(),
      });
      setDone(`已提交，当前状态：${label(answer.record.state)}。`);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  return (
    <section aria-labelledby="log-h">
      <h2 id="log-h">登记培训</h2>
      <form class="form" onSubmit={submit}>
        <Select name="活动类型" value={form.activity} options={activities} onChange={set('activity')} />
        <Field label="名称">
          <input value={form.title} onInput={input('title')} required maxLength={200} />
        </Field>
        <Select name="级别" value={form.level} options={levels} onChange={set('level')} />
        <Select name="形式" value={form.mode} options={modes} onChange={set('mode')} />
        <Field label="学时" hint="以 0.5 学时为单位">
          <input type="number" inputMode="decimal" min="0.5" step="0.5" value={form.hours} onInput={input('hours')} required />
        </Field>
        <DateField label="开始日期" value={form.startedOn} max={today()} onValue={set('startedOn')} required />
        <DateField label="完成日期" value={form.completedOn} min={form.startedOn || undefined} max={today()} onValue={set('completedOn')} required />
        <Field label="佐证材料说明" hint="如签到表、发言稿">
          <textarea value={form.evidence} onInput={input('evidence')} rows={2} />
        </Field>
        <Field label="佐证材料编号" hint="证书编号，或材料在学校存档中的位置">
          <input name="fileRef" value={form.fileRef} onInput={input('fileRef')} required />
        </Field>
        <button type="submit" disabled={busy}>
          提交
        </button>
      </form>
      <ErrorBox error={error} />
      {done && (
        <p class="ok" role="status">
          {done}
        </p>
      )}
    </section>
  );
}

interface Rotation {
  rotationId: string;
  sendingSchoolId: string;
  receivingSchoolId: string;
  form: string;
  startDate: string;
  plannedEndDate: string;
  state: string;
  schoolYear: string;
}

// A list of rotations as the rotation service answers it: the schools' names come with it
// (schoolNames, from its copy of the county's schools; a teacher may not read other schools).
export interface RotationPage {
  rotations: Rotation[];
  schoolNames?: Record<string, string>;
}

export function RotationList({ rotations, schoolNames }: RotationPage) {
  const school = (id: string) => schoolNames?.[id] ?? id;
  if (rotations.length === 0) return <p>没有轮岗记录。</p>;
  return (
    <div class="scroll">
      <table class="stack" role="table">
        <thead>
          <tr>
            <th scope="col">学年</th>
            <th scope="col">形式</th>
            <th scope="col">派出学校</th>
            <th scope="col">接收学校</th>
            <th scope="col">起止</th>
            <th scope="col">状态</th>
          </tr>
        </thead>
        <tbody>
          {rotations.map((r) => (
            <tr key={r.rotationId}>
              <td data-label="学年">{r.schoolYear}</td>
              <td data-label="形式">{label(r.form)}</td>
              <td data-label="派出学校">{school(r.sendingSchoolId)}</td>
              <td data-label="接收学校">{school(r.receivingSchoolId)}</td>
              <td data-label="起止">
                {r.startDate} 至 {r.plannedEndDate}
              </td>
              <td data-label="状态">{label(r.state)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function MyRotations({ teacherId }: { teacherId: string }) {
  const [data, error, loading] = useLoad(() => call<RotationPage>(`/v1/teachers/${teacherId}/rotations`), [teacherId]);
  return (
    <section aria-labelledby="myrot-h">
      <h2 id="myrot-h">我的轮岗</h2>
      <ErrorBox error={error} />
      {loading && <Busy label="正在读取轮岗" />}
      {data && <RotationList rotations={data.rotations ?? []} schoolNames={data.schoolNames} />}
    </section>
  );
}
