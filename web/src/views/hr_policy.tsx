// The policy in force for the county, each value with where it comes from (level, region,
// effective date, or the built-in default).
import { call } from '../api';
import { label } from '../labels';
import { Busy, ErrorBox, useLoad } from '../ui';

interface Source {
  field: string;
  level: string;
  region: string;
  effectiveFrom: string;
  builtIn: boolean;
}
interface Resolved {
  resolved: { policy: Record<string, unknown>; sources: Source[] };
  asOf: string;
}

const fieldLabels: Record<string, string> = {
  'training.cycle_kind': '周期计算方式',
  'training.cycle_years': '周期年数',
  'training.fixed_cycle_start': '统一周期起点',
  'training.required_hours': '周期内应修学时',
  'training.induction_hours': '新教师入职培训学时',
  'training.yearly_minimum_hours': '每年最低学时',
  'training.head_teacher_hours': '班主任专项学时',
  'training.grace_days': '宽限天数',
  'training.warn_days': '预警天数',
  'training.minimums': '分项最低学时',
  'training.caps': '分项上限',
  'training.counts_credits': '是否折算学分',
  'training.credit_rates': '学分折算比例',
  'training.credit_caps': '学分上限',
};

const camel = (s: string) => s.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

function valueAt(policy: Record<string, unknown>, path: string): string {
  let v: unknown = policy;
  for (const part of path.split('.')) v = (v as Record<string, unknown> | undefined)?.[camel(part)];
  if (v === undefined || v === null) return '—';
  if (typeof v === 'boolean') return v ? '是' : '否';
  if (typeof v === 'string') return label(v);
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

function PolicyTable({ title, data }: { title: string; data: Resolved }) {
  return (
    <>
      <h3>{title}</h3>
      <div class="scroll">
        <table>
          <thead>
            <tr>
              <th scope="col">项目</th>
              <th scope="col">取值</th>
              <th scope="col">来源</th>
              <th scope="col">生效日期</th>
            </tr>
          </thead>
          <tbody>
            {data.resolved.sources.map((s) => (
              <tr key={s.field}>
                <td>{fieldLabels[s.field] ?? s.field}</td>
                <td>{valueAt(data.resolved.policy, s.field)}</td>
                <td>{s.builtIn ? '系统默认（国家规定）' : `${label(s.level)}级 ${s.region}`}</td>
                <td>{s.effectiveFrom || '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}

export function PolicyView({ county }: { county: string }) {
  const [training, error, loading] = useLoad(() => call<Resolved>(`/v1/counties/${county}/training-policy`), [county]);
  const [rotation, rotError] = useLoad(() => call<Resolved>(`/v1/counties/${county}/rotation-policy`), [county]);
  return (
    <section aria-labelledby="policy-h">
      <h2 id="policy-h">现行政策</h2>
      <ErrorBox error={error ?? rotError} />
      {loading && <Busy label="正在读取政策" />}
      {training && <PolicyTable title={`继续教育（截至 ${training.asOf}）`} data={training} />}
      {rotation && <PolicyTable title="交流轮岗" data={rotation} />}
    </section>
  );
}
