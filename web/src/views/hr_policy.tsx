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
  'rotation.min_years_at_school': '在同一学校任教满（年）应交流',
  'rotation.leader_terms': '校长任满几届应交流',
  'rotation.leader_term_years': '校长每届年数',
  'rotation.retirement_exclusion_years': '距退休几年内不列入',
  'rotation.ratio_percent': '每年交流比例（%）',
  'rotation.backbone_ratio_percent': '骨干教师占交流人数比例（%）',
  'rotation.school_year_start': '学年起始（月-日）',
  'rotation.min_duration_years': '交流最短年限',
  'rotation.count_only_eligible': '只计应交流人员',
  'rotation.counting_directions': '计入的交流方向',
  'rotation.backbone_base': '骨干比例的基数',
  'rotation.counting_forms': '计入的交流形式',
  'rotation.other_directions_count': '其他方向也计入',
};

const kindLabels: Record<string, string> = {
  URBAN: '城区',
  TOWN: '镇区',
  RURAL: '乡村',
  CENTRAL: '中心校',
  TEACHING_POINT: '教学点',
  VILLAGE: '村小',
  degree_study: '学历提升',
  course: '培训课程',
  conference: '学术会议',
  public_lesson: '公开课',
  research_activity: '县级教研活动',
  other: '其他',
  STRONG: '优质校',
  WEAK: '薄弱校',
};

// A policy value as a person reads it: enum names by their Chinese labels, lists joined, an
// empty list as 无, a {from, to} direction as 城区→乡村.
function show(v: unknown): string {
  if (v === undefined || v === null) return '—';
  if (typeof v === 'boolean') return v ? '是' : '否';
  if (typeof v === 'string') return kindLabels[v] ?? label(v);
  if (typeof v === 'number') return String(v);
  if (Array.isArray(v)) return v.length ? v.map(show).join('；') : '无';
  const o = v as Record<string, unknown>;
  if ('fromKind' in o && 'toKind' in o) return `${show(o.fromKind)}→${show(o.toKind)}`;
  const values = Object.values(o);
  if (values.length === 1) return show(values[0]);
  return Object.entries(o)
    .map(([k, x]) => (k === 'mode' || k === 'activity' || k === 'level' ? show(x) : `${k === 'hoursPerCredit' ? '每学分学时' : k === 'credits' ? '学分' : k === 'hours' ? '学时' : k} ${show(x)}`))
    .join(' ');
}

const camel = (s: string) => s.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

function valueAt(policy: Record<string, unknown>, path: string): string {
  let v: unknown = policy;
  for (const part of path.split('.')) v = (v as Record<string, unknown> | undefined)?.[camel(part)];
  return show(v);
}

interface County {
  county: { countyId: string; name: string; cityCode: string; cityName: string; provinceCode: string; provinceName: string };
}

// A region by its name (the county's, its city's or its province's, which the county's record
// names); a code the county does not name stays a code.
function regionName(county: County | null, code: string): string {
  const c = county?.county;
  if (!c) return code;
  const names: Record<string, string> = { [c.countyId]: c.name, [c.cityCode]: c.cityName, [c.provinceCode]: c.provinceName };
  return names[code] || code;
}

function PolicyTable({ title, data, county }: { title: string; data: Resolved; county: County | null }) {
  return (
    <>
      <h3>{title}</h3>
      <div class="scroll">
        <table class="policy">
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
                <td>{s.builtIn ? '系统默认（国家规定）' : `${label(s.level)}级 ${regionName(county, s.region)}`}</td>
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
  // The names of the regions values come from; without them the codes show.
  const [place] = useLoad(() => call<County>(`/v1/counties/${county}`).catch(() => null), [county]);
  return (
    <section aria-labelledby="policy-h">
      <h2 id="policy-h">现行政策</h2>
      <ErrorBox error={error ?? rotError} />
      {loading && <Busy label="正在读取政策" />}
      {training && <PolicyTable title={`继续教育（截至 ${training.asOf}）`} data={training} county={place} />}
      {rotation && <PolicyTable title="交流轮岗" data={rotation} county={place} />}
    </section>
  );
}
