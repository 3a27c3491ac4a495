// The county's schools, read once per county and shared by every picker.
import { call } from '../api';
import { Field, useLoad } from '../ui';

export interface School {
  schoolId: string;
  name: string;
  countyId: string;
}

const cache = new Map<string, Promise<School[]>>();

export function countySchools(county: string): Promise<School[]> {
  let hit = cache.get(county);
  if (!hit) {
    hit = (async () => {
      const out: School[] = [];
      let token = '';
      do {
        const page = await call<{ schools: School[]; page: { nextPageToken: string } }>(
          `/v1/counties/${county}/schools`,
          { query: { 'page.pageSize': 500, 'page.pageToken': token } },
        );
        out.push(...page.schools);
        token = page.page?.nextPageToken ?? '';
      } while (token);
      return out;
    })();
    hit.catch(() => cache.delete(county));
    cache.set(county, hit);
  }
  return hit;
}

// A school's name; nothing while the county's schools are being read (never the id meanwhile),
// the id for a school the list does not hold.
export function schoolName(schools: School[] | null, id: string): string {
  if (!schools) return '';
  return schools.find((s) => s.schoolId === id)?.name ?? id;
}

export function SchoolPicker(props: {
  county: string;
  value: string;
  onChange: (id: string) => void;
  allowAll?: boolean;
  label?: string;
  name?: string;
}) {
  const [schools] = useLoad(() => countySchools(props.county), [props.county]);
  return (
    <Field label={props.label ?? '学校'}>
      <select name={props.name ?? 'school'} value={props.value} onChange={(e) => props.onChange((e.target as HTMLSelectElement).value)}>
        {props.allowAll ? <option value="">全县</option> : <option value="">请选择学校</option>}
        {(schools ?? []).map((s) => (
          <option key={s.schoolId} value={s.schoolId}>
            {s.name}
          </option>
        ))}
      </select>
    </Field>
  );
}
