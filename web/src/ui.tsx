// Small pieces every view shares: an error shown as what to do, progress, a labelled field.
import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, adviceFor } from './api';

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
};

// The services' rules (a violation's `rule`) said in Chinese; the service's own description
// (English, for developers) is shown where no hint is known.
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
};

export function rowViolationText(rule: string | undefined, description: string): string {
  return (rule && rowRuleHints[rule]) || description;
}

export function violationText(field: string, rule: string | undefined, description: string): string {
  const last = field.split('.').pop() ?? field;
  return (rule && ruleHints[`${last}:${rule}`]) || description;
}

export function fieldName(field: string): string {
  const last = field.split('.').pop() ?? field;
  return fieldNames[field] ?? fieldNames[last] ?? field;
}

export function ErrorBox({ error }: { error: unknown }) {
  if (!error) return null;
  if (!(error instanceof ApiError)) {
    return (
      <div class="error" role="alert">
        出错了：{String((error as Error)?.message ?? error)}
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
      {/* The service's own words are for whoever supports the page: folded away, not the message. */}
      {!error.advice && fields.length === 0 && rows.length === 0 && error.message ? (
        <details class="muted">
          <summary>技术信息</summary>
          {error.message}
        </details>
      ) : null}
      {fields.length > 0 && (
        <ul>
          {fields.map((v, i) => (
            <li key={i}>
              <strong>{fieldName(v.field ?? '')}</strong>：{violationText(v.field ?? '', v.rule, v.description)}
            </li>
          ))}
        </ul>
      )}
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
                  <td>{v.column || '—'}</td>
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

export function Busy({ label }: { label: string }) {
  return (
    <p class="busy" role="status" aria-live="polite">
      <progress aria-label={label} /> {label}
    </p>
  );
}

export function Field({ label, children, hint }: { label: string; children: ComponentChildren; hint?: string }) {
  return (
    <label class="field">
      <span>{label}</span>
      {children}
      {hint && <small class="muted">{hint}</small>}
    </label>
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
