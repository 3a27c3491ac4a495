// Small pieces every view shares: an error shown as what to do, progress, a labelled field.
import { cloneElement, isValidElement, type ComponentChildren } from 'preact';
import { useEffect, useId, useRef, useState } from 'preact/hooks';
import { ApiError, Violation, adviceFor } from './api';

const fieldNames: Record<string, string> = {
  username: '用户名',
  password: '密码',
  hours: '学时',
  title: '名称',
  started_on: '开始日期',
  completed_on: '完成日期',
  startedOn: '开始日期',
  completedOn: '完成日期',
  reason: '理由',
  csv: 'CSV 文件',
  teacher_id: '教师编号',
  teacherId: '教师编号',
  course_id: '课程编号',
  evidence: '佐证材料',
  file_ref: '佐证材料编号',
  fileRef: '佐证材料编号',
  description: '说明',
  activity: '活动类型',
  level: '级别',
  mode: '形式',
  start_date: '开始日期',
  end_date: '结束日期',
  capacity: '名额',
  oldPassword: '原密码',
  newPassword: '新密码',
  old_password: '原密码',
  new_password: '新密码',
  region: '地区代码',
  county_id: '县（区）代码',
  school_id: '学校',
  display_name: '姓名',
  role: '角色',
  kind: '活动类型',
  date: '日期',
  grade: '考核等次',
  remarks: '评语',
  by_teacher_id: '记录人',
  planned_end_date: '计划结束日期',
  receiving_school_id: '接收学校',
  sending_school_id: '派出学校',
  to_school_id: '接收学校',
  mentor_id: '导师',
  mentee_id: '新教师',
  form: '交流形式',
  note: '备注',
  from_date: '起始日期',
  to_date: '截止日期',
  school_year: '学年',
  stage: '阶段',
  name: '名称',
  rows: '名单',
};

// The services' rules (a violation's `rule`) said in Chinese, per field; where neither these nor
// the rules below know one, the box says so and folds the service's own words (English, for
// developers) under 技术信息.
const ruleHints: Record<string, string> = {
  'username:format': '应为 3–64 位小写字母、数字或 . _ -，以字母或数字开头',
  'teacher_id:required': '请填写教师编号',
  'teacher_id:format': '教师编号格式不对',
  'school_id:required': '请选择学校',
  'region:region_code': '应为所管辖地区内的 6 位行政区划代码（县级人事填县的代码）',
  'county_id:county_code': '应为 6 位县（区）代码',
  'kind:required': '请选择活动类型',
  'date:required': '请填写日期',
  'date:date_format': '日期格式应为 年-月-日',
  'grade:required': '学期考核请选择等次',
  'grade:evaluation_only': '只有学期考核填写等次',
  'remarks:length': '评语太长，请删减',
  'by_teacher_id:pairing_member': '只有这对师徒本人可以记录',
  'old_password:wrong': '原密码不对',
  'reason:required': '请填写理由',
};

// A CSV row's problem by its rule (services/profile/roster.cc and the other importers), in
// Chinese; the service's own description where the rule is not one of these.
const rowRuleHints: Record<string, string> = {
  required: '必填，不能为空',
  date_format: '应为存在的日期，写作 年-月-日（如 1990-05-01）',
  boolean: '应填“是”或“否”',
  duplicate: '与文件中的另一行重复',
  exists: '平台上已有这条记录',
  exists_different: '平台上已有同名记录，但其他信息不同',
  unknown_school: '找不到这所学校：请先导入学校名册，或核对学校代码、名称',
  length: '内容太长，请删减',
  enum: '不是可选的值，请按名册模板填写',
  not_future: '不能晚于今天',
  after_birth: '应晚于出生日期',
  after_hire: '应不早于参加工作时间',
  date_range: '日期不在允许的范围内',
  format: '格式不对，请核对',
  email: '电子邮箱格式不对',
  count: '数量不对，请核对',
  derived_fields: '与身份证号中的出生日期或性别不一致',
};

// A rule said in Chinese whatever field it names (the services' rule names, services/*/).
const anyFieldHints: Record<string, string> = {
  required: '必填，不能为空',
  date_format: '应为存在的日期，写作 年-月-日（如 2026-09-01）',
  hours: '应为大于 0 的学时数，以 0.5 学时为单位',
  not_future: '不能晚于今天',
  before_completed: '开始日期不能晚于完成日期',
  order: '结束日期不能早于开始日期',
  within_course: '应在课程的起止日期之内，学时不超过课程学时',
  length: '长度不符合要求，请删减或补全',
  max_length: '内容太长，请删减',
  enum: '请从列表中选择',
  format: '格式不对，请核对',
  range: '超出允许的范围',
  exists: '已经存在',
  duplicate: '与前面的一行重复',
  unknown_teacher: '找不到这位教师，请核对教师编号',
  unknown_course: '找不到这门课程',
  unknown_school: '找不到这所学校',
  not_open: '课程没有向这位教师所在的县开放',
  departed: '这位教师已退休或调离，此日及以后不能计入',
  same_school: '派出学校与接收学校不能相同',
  self: '不能选择本人',
  outside_region: '不在您管辖的地区内',
  wrong: '不正确',
  characters: '含有不允许的字符',
  not_username: '不能与用户名相同',
  kind_not_allowed: '这类活动不能在这里记录',
};

export function rowViolationText(rule: string | undefined, description: string): string {
  return (rule && rowRuleHints[rule]) || (chinese.test(description) ? description : '内容不符合要求，请按名册模板核对这一格');
}

// What to do about a field's problem, in Chinese; null when the page knows no words for the
// rule (the box then says so and folds the service's own words away).
export function violationHint(field: string, rule: string | undefined, description = ''): string | null {
  const last = lastPart(field);
  return (rule && (ruleHints[`${last}:${rule}`] ?? anyFieldHints[rule])) || (chinese.test(description) ? description : null);
}

// Words the page wrote itself (a check before any call) are Chinese and shown as they are.
const chinese = /[\u4e00-\u9fff]/;

// "rows[3].hours" → "hours"; "evidence.file_ref" → "file_ref".
function lastPart(field: string): string {
  return (field.split('.').pop() ?? field).replace(/\[\d+\]$/, '');
}

export function fieldName(field: string): string {
  return fieldNames[field] ?? fieldNames[lastPart(field)] ?? (chinese.test(field) ? field : '填写的内容');
}

export function ErrorBox({ error }: { error: unknown }) {
  if (!error) return null;
  if (!(error instanceof ApiError)) {
    // The page's own checks speak Chinese; anything else (a script's error) is folded away.
    const message = String((error as Error)?.message ?? error);
    return (
      <div class="error" role="alert">
        {chinese.test(message) ? (
          message
        ) : (
          <>
            <p>
              <strong>页面出错了，请刷新后重试；仍不行请联系管理员。</strong>
            </p>
            <details class="muted">
              <summary>技术信息</summary>
              <span translate={false}>{message}</span>
            </details>
          </>
        )}
      </div>
    );
  }
  const rows = error.violations.filter((v) => v.row !== undefined);
  const fields = error.violations.filter((v) => v.row === undefined);
  return (
    <div class="error" role="alert">
      <p>
        <strong>{error.advice ?? adviceFor(error.status)}</strong>
      </p>
      {fields.length > 0 && (
        <ul>
          {fields.map((v, i) => (
            <li key={i}>
              <strong>{fieldName(v.field ?? '')}</strong>：{violationHint(v.field ?? '', v.rule, v.description) ?? '不符合要求，请核对后重试（详见技术信息）'}
            </li>
          ))}
        </ul>
      )}
      <TechnicalDetails error={error} fields={fields} rows={rows} />
      {rows.length > 0 && (
        <div class="scroll">
          <p>共 {rows.length} 行有误，什么都没有写入。请修改这些行后重新上传：</p>
          <table class="bad-rows">
            <thead>
              <tr>
                <th scope="col">行号</th>
                <th scope="col">列</th>
                <th scope="col">问题</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((v, i) => (
                <tr key={i}>
                  <td>第 {v.row} 行</td>
                  {/* The column as the file names it (the service adds its own key: dropped). */}
                  <td translate={false}>{v.column?.replace(/ \([a-z_]+\)$/, '') || '—'}</td>
                  <td>{rowViolationText(v.rule, v.description)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}

// The service's own words (English, for whoever supports the page), folded away: shown when
// the page said only a general sentence or had no words of its own for a field's rule.
function TechnicalDetails({ error, fields, rows }: { error: ApiError; fields: Violation[]; rows: Violation[] }) {
  const unexplained = fields.filter((v) => !violationHint(v.field ?? '', v.rule, v.description));
  const general = !error.advice && fields.length === 0 && rows.length === 0 && error.message;
  if (!general && unexplained.length === 0) return null;
  return (
    <details class="muted">
      <summary>技术信息</summary>
      <span translate={false}>
        {general ? error.message : unexplained.map((v) => `${v.field}: ${v.description}`).join('; ')}
      </span>
    </details>
  );
}

export function Progress({ done, total, label }: { done: number; total: number; label: string }) {
  return (
    <div class="progress">
      <label>
        {label}（{done}/{total}）
        <progress max={total || 1} value={done} />
      </label>
    </div>
  );
}

// Work under way whose share done is unknown (one call): with `since`, the seconds it has taken
// so far, counted each second, so a long import is seen to be alive.
export function Busy({ label, since }: { label: string; since?: number }) {
  const [, setTick] = useState(0);
  useEffect(() => {
    if (since === undefined) return;
    const timer = setInterval(() => setTick((t) => t + 1), 1000);
    return () => clearInterval(timer);
  }, [since]);
  const seconds = since === undefined ? null : Math.floor((Date.now() - since) / 1000);
  return (
    <p class="busy" role="status" aria-live="polite">
      <progress aria-label={label} /> {label}
      {seconds !== null && <span class="muted">（已用 {seconds} 秒）</span>}
    </p>
  );
}

// A labelled field. Its hint is the control's description, not part of its name: a screen reader
// says "开始日期" and then the hint, as the eye reads them.
export function Field({ label, children, hint }: { label: string; children: ComponentChildren; hint?: string }) {
  const id = useId();
  const described = hint && isValidElement(children) ? cloneElement(children, { 'aria-describedby': `${id}-h` }) : children;
  return (
    <label class="field">
      <span>{label}</span>
      {described}
      {hint && (
        <small class="muted" id={`${id}-h`} aria-hidden="true">
          {hint}
        </small>
      )}
    </label>
  );
}

// A date as a person in China reads it: 2026年12月6日 星期日 ('' for a value that is no date).
export function chineseDate(value: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!m) return '';
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const weekday = '日一二三四五六'[new Date(Date.UTC(y, mo - 1, d)).getUTCDay()];
  return `${y}年${mo}月${d}日 星期${weekday}`;
}

// The order a date field's parts are typed in, as the browser draws them (its language's short
// date: 年/月/日 in Chinese, 月/日/年 in American English), said in Chinese.
let partsOrder = '';
function dateOrder(): string {
  if (!partsOrder) {
    const names: Record<string, string> = { year: '年', month: '月', day: '日' };
    const parts = new Intl.DateTimeFormat(undefined, { year: 'numeric', month: '2-digit', day: '2-digit' }).formatToParts(new Date(2026, 0, 31));
    partsOrder = parts.filter((p) => names[p.type]).map((p) => names[p.type]).join('/') || '年/月/日';
  }
  return partsOrder;
}

// A date field: the browser's own picker (a phone's calendar; 年/月/日 in a Chinese browser),
// with the chosen day said in Chinese beneath it, or, while empty, the order to type its parts
// in, so a browser set to another language still shows which day it is and how to write one.
export function DateField(props: { label: string; value: string; onValue: (v: string) => void; name?: string; min?: string; max?: string; required?: boolean }) {
  const { label, value, onValue, ...attrs } = props;
  const said = chineseDate(value);
  return (
    <Field label={label} hint={said || `尚未选择（依次填 ${dateOrder()}）`}>
      <input type="date" value={value} onInput={(e) => onValue((e.target as HTMLInputElement).value)} {...attrs} />
    </Field>
  );
}

function fileSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} 字节`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

// A file chooser that speaks Chinese whatever the browser's language: the native input, visually
// hidden, keeps the focus, the keyboard (Enter or Space opens the system's dialog) and its name
// for screen readers; a label styled as a button (选择文件) opens it with a click or a tap, and
// the chosen file's name is shown (and read out) beside it.
export function FilePicker({ label, accept, file, onFile }: { label: string; accept: string; file: File | null; onFile: (f: File | null) => void }) {
  const id = useId();
  return (
    <div class="field">
      <span id={`${id}-l`}>{label}</span>
      <div class="file-pick">
        <input
          id={`${id}-i`}
          type="file"
          class="visually-hidden"
          accept={accept}
          aria-labelledby={`${id}-b ${id}-l`}
          aria-describedby={`${id}-n`}
          onChange={(e) => onFile((e.target as HTMLInputElement).files?.[0] ?? null)}
        />
        <label for={`${id}-i`} id={`${id}-b`} class="button secondary" aria-hidden="true">
          选择文件
        </label>
        <span id={`${id}-n`} class="file-name" aria-live="polite" translate={false}>
          {file ? `${file.name}（${fileSize(file.size)}）` : '未选择文件'}
        </span>
      </div>
    </div>
  );
}

// Loads `load()` when `deps` change: [data, error, loading, reload]. With `initial` (known
// without a call on the first render) the first load is skipped and the data is there at once.
export function useLoad<T>(load: () => Promise<T>, deps: unknown[], initial: T | null = null): [T | null, unknown, boolean, () => void] {
  const [data, setData] = useState<T | null>(initial);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(initial === null);
  const [tick, setTick] = useState(0);
  const skipFirst = useRef(initial !== null);
  useEffect(() => {
    if (skipFirst.current) {
      skipFirst.current = false;
      return;
    }
    let live = true;
    setLoading(true);
    setError(null);
    load()
      .then((d) => live && setData(d))
      .catch((e) => live && setError(e))
      .finally(() => live && setLoading(false));
    return () => {
      live = false;
    };
  }, [...deps, tick]);
  return [data, error, loading, () => setTick((t) => t + 1)];
}

export function saveBlob(blob: Blob, filename: string) {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

// The filename of a Content-Disposition header (filename* first).
export function dispositionName(header: string | null, fallback: string): string {
  if (!header) return fallback;
  const star = /filename\*=UTF-8''([^;]+)/i.exec(header);
  if (star) return decodeURIComponent(star[1]);
  const plain = /filename="([^"]+)"/i.exec(header);
  return plain ? plain[1] : fallback;
}

export function today(): string {
  const d = new Date(Date.now() + 8 * 3600 * 1000); // Asia/Shanghai
  return d.toISOString().slice(0, 10);
}
