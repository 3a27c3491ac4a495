// Training centre: its courses (register, publish, close, enrolment) and a class's completions
// uploaded as CSV, with each row's outcome.
import { useState } from 'preact/hooks';
import { call, eachLimited, newRequestKey } from '../api';
import { hours, label } from '../labels';
import { Busy, DateField, ErrorBox, Field, FilePicker, Progress, fieldName, today, useLoad, violationHint } from '../ui';

interface Course {
  courseId: string;
  title: string;
  level: string;
  mode: string;
  hours: number;
  startDate: string;
  endDate: string;
  capacity: number;
  enrolled: number;
  completed: number;
  state: string;
}

const courseLevels = ['TRAINING_LEVEL_SCHOOL', 'TRAINING_LEVEL_COUNTY', 'TRAINING_LEVEL_CITY', 'TRAINING_LEVEL_PROVINCE', 'TRAINING_LEVEL_NATIONAL'];
const courseModes = ['TRAINING_MODE_FACE_TO_FACE', 'TRAINING_MODE_ONLINE', 'TRAINING_MODE_BLENDED', 'TRAINING_MODE_SCHOOL_BASED'];

function useCourses(providerId: string) {
  return useLoad(
    () => call<{ courses: Course[] }>('/v1/courses', { query: { providerId, 'page.pageSize': 200 } }),
    [providerId],
  );
}

export function Courses({ providerId, county }: { providerId: string; county: string }) {
  const [data, error, loading, reload] = useCourses(providerId);
  const [actionError, setActionError] = useState<unknown>(null);
  const [form, setForm] = useState({ title: '', hours: '', startDate: '', endDate: '', capacity: '50', level: 'TRAINING_LEVEL_COUNTY', mode: 'TRAINING_MODE_FACE_TO_FACE' });
  const input = (k: keyof typeof form) => (e: Event) => setForm({ ...form, [k]: (e.target as HTMLInputElement).value });

  async function act(path: string, body: unknown) {
    setActionError(null);
    try {
      await call(path, { body, idempotencyKey: newRequestKey() });
      reload();
    } catch (e) {
      setActionError(e);
    }
  }

  function register(e: Event) {
    e.preventDefault();
    act('/v1/courses', {
      course: {
        providerId,
        title: form.title,
        level: form.level,
        mode: form.mode,
        hours: Number(form.hours),
        startDate: form.startDate,
        endDate: form.endDate,
        capacity: Number(form.capacity),
        openRegions: county ? [county] : [],
      },
    });
  }

  return (
    <section aria-labelledby="courses-h">
      <h2 id="courses-h">课程</h2>
      <ErrorBox error={error ?? actionError} />
      {loading && <Busy label="正在读取课程" />}
      {data && (
        <div class="scroll">
          <table>
            <thead>
              <tr>
                <th scope="col">课程</th>
                <th scope="col">学时</th>
                <th scope="col">日期</th>
                <th scope="col">报名/名额</th>
                <th scope="col">结业</th>
                <th scope="col">状态</th>
                <th scope="col">操作</th>
              </tr>
            </thead>
            <tbody>
              {/* Newest first: this year's courses, where the actions are, on top. */}
              {[...data.courses].sort((a, b) => (a.startDate < b.startDate ? 1 : a.startDate > b.startDate ? -1 : 0)).map((c) => (
                <tr key={c.courseId}>
                  <td>
                    {c.title}
                    <br />
                    <small class="muted">
                      {label(c.level)} · {label(c.mode)}
                    </small>
                  </td>
                  <td>{hours(c.hours)}</td>
                  <td>
                    {c.startDate} 至 {c.endDate}
                  </td>
                  <td>
                    {c.enrolled ?? 0}/{c.capacity}
                  </td>
                  <td>{c.completed ?? 0}</td>
                  <td>{label(c.state)}</td>
                  <td>
                    {c.state === 'COURSE_STATE_DRAFT' && (
                      <button type="button" onClick={() => act(`/v1/courses/${c.courseId}:publish`, {})} aria-label={`发布 ${c.title}`}>
                        发布
                      </button>
                    )}
                    {c.state === 'COURSE_STATE_PUBLISHED' && (
                      <button type="button" onClick={() => act(`/v1/courses/${c.courseId}:close`, {})} aria-label={`截止报名 ${c.title}`}>
                        截止报名
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <h3>登记新课程</h3>
      <form class="form" onSubmit={register}>
        <Field label="课程名称">
          <input value={form.title} onInput={input('title')} required />
        </Field>
        <Field label="学时">
          <input type="number" step="0.5" min="0.5" value={form.hours} onInput={input('hours')} required />
        </Field>
        <DateField label="开始日期" value={form.startDate} onValue={(v) => setForm({ ...form, startDate: v })} required />
        <DateField label="结束日期" value={form.endDate} min={form.startDate || undefined} onValue={(v) => setForm({ ...form, endDate: v })} required />
        <Field label="名额">
          <input type="number" min="1" value={form.capacity} onInput={input('capacity')} required />
        </Field>
        <Field label="级别">
          <select value={form.level} onChange={input('level')}>
            {courseLevels.map((l) => (
              <option key={l} value={l}>
                {label(l)}
              </option>
            ))}
          </select>
        </Field>
        <Field label="形式">
          <select value={form.mode} onChange={input('mode')}>
            {courseModes.map((m) => (
              <option key={m} value={m}>
                {label(m)}
              </option>
            ))}
          </select>
        </Field>
        <button type="submit">登记</button>
      </form>
    </section>
  );
}

interface Result {
  row: number;
  teacherId: string;
  outcome: string;
  violation?: { field: string; rule?: string; description: string };
}

// Why a row was not credited, in Chinese: the column and what to do (the course's own dates and
// hours where the row fell outside them).
function completionReason(v: Result['violation'], course: Course | undefined): string {
  if (!v) return '';
  if (v.rule === 'within_course' && course) {
    return /hours$/.test(v.field)
      ? `学时应大于 0，且不超过课程的 ${hours(course.hours)}（以 0.5 学时为单位）`
      : `完成日期应在课程的 ${course.startDate} 至 ${course.endDate} 之间`;
  }
  const hint = violationHint(v.field, v.rule);
  return `${fieldName(v.field)}：${hint ?? '不符合要求，请核对这一行'}`;
}

// "teacher_id,hours,completed_on" rows (a header line is skipped); Excel's BOM is dropped.
export function parseCompletions(text: string): Array<{ teacherId: string; hours: number; completedOn: string }> {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/).filter((l) => l.trim());
  if (lines.length && !/\d/.test(lines[0].split(',')[1] ?? '')) lines.shift();
  return lines.map((l) => {
    const [teacherId = '', h = '', completedOn = ''] = l.split(',').map((c) => c.trim().replace(/^"|"$/g, ''));
    return { teacherId, hours: Number(h), completedOn };
  });
}

const chunk = 200;

export function Completions({ providerId }: { providerId: string }) {
  const [courses] = useCourses(providerId);
  const [courseId, setCourseId] = useState('');
  const [file, setFile] = useState<File | null>(null);
  const [progress, setProgress] = useState<[number, number] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [results, setResults] = useState<Result[] | null>(null);

  async function upload(e: Event) {
    e.preventDefault();
    if (!file || !courseId) return;
    setError(null);
    setResults(null);
    try {
      const rows = parseCompletions(await file.text());
      const parts: (typeof rows)[] = [];
      for (let i = 0; i < rows.length; i += chunk) parts.push(rows.slice(i, i + chunk));
      const key = newRequestKey();
      const answers = await eachLimited(
        parts.map((p, i) => [p, i] as const),
        1,
        ([p, i]) =>
          call<{ results: Result[] }>(`/v1/courses/${courseId}/completions`, {
            body: { rows: p },
            idempotencyKey: `${key}-${i}`,
            timeoutMs: 60000,
          }),
        (done, total) => setProgress([done, total]),
      );
      setResults(answers.flatMap((a, i) => a.results.map((r) => ({ ...r, row: Number(r.row) + i * chunk }))));
    } catch (err) {
      setError(err);
    } finally {
      setProgress(null);
    }
  }

  const count = (o: string) => results?.filter((r) => r.outcome === o).length ?? 0;
  const course = courses?.courses.find((c) => c.courseId === courseId);
  return (
    <section aria-labelledby="compl-h">
      <h2 id="compl-h">上传结业名单</h2>
      <p class="muted">CSV 每行：教师编号,学时,完成日期（年-月-日，如 2026-01-10）。每行单独处理，有问题的行不影响其他行。</p>
      <form class="form" onSubmit={upload}>
        <Field label="课程">
          <select value={courseId} onChange={(e) => setCourseId((e.target as HTMLSelectElement).value)} required>
            <option value="">请选择课程</option>
            {/* The classes that have begun, newest first: completions of one not begun are refused. */}
            {(courses?.courses ?? [])
              .filter((c) => c.startDate <= today())
              .sort((a, b) => (a.startDate < b.startDate ? 1 : a.startDate > b.startDate ? -1 : 0))
              .map((c) => (
              <option key={c.courseId} value={c.courseId}>
                {c.title}（{c.startDate}）
              </option>
            ))}
          </select>
        </Field>
        <FilePicker label="CSV 文件" accept=".csv,text/csv" file={file} onFile={setFile} />
        <button type="submit" disabled={!file || !courseId || !!progress}>
          上传
        </button>
      </form>
      {progress && <Progress done={progress[0]} total={progress[1]} label="正在上传" />}
      <ErrorBox error={error} />
      {results && (
        <>
          <p class="figures" role="status">
            计入 {count('COMPLETION_OUTCOME_CREDITED')} 行，此前已计入 {count('COMPLETION_OUTCOME_ALREADY_CREDITED')} 行，未计入{' '}
            {count('COMPLETION_OUTCOME_REJECTED')} 行。
          </p>
          <div class="scroll">
            <table>
              <thead>
                <tr>
                  <th scope="col">行</th>
                  <th scope="col">教师编号</th>
                  <th scope="col">结果</th>
                  <th scope="col">原因</th>
                </tr>
              </thead>
              <tbody>
                {results.map((r) => (
                  <tr key={r.row} class={r.outcome === 'COMPLETION_OUTCOME_REJECTED' ? 'bad' : ''}>
                    <td>{r.row}</td>
                    <td translate={false}>{r.teacherId}</td>
                    <td>{label(r.outcome)}</td>
                    <td>{completionReason(r.violation, course)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
    </section>
  );
}
