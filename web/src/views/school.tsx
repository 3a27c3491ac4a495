// School admin: the school's rotations and proposing one (the school's teachers' training status
// is TrainingCompliance for the school; its rotation compliance is RotationCompliance's row).
import { useState } from 'preact/hooks';
import { call, newRequestKey } from '../api';
import { label } from '../labels';
import { Busy, DateField, ErrorBox, Field, today, useLoad } from '../ui';
import { currentSchoolYear } from './hr_rotation';
import { SchoolPicker } from './schools';
import { RotationList, type RotationPage } from './teacher';

const forms = [
  'ROTATION_FORM_REGULAR_TRANSFER',
  'ROTATION_FORM_SUPPORT_TEACHING',
  'ROTATION_FORM_ITINERANT',
  'ROTATION_FORM_PAIRED_SUPPORT',
  'ROTATION_FORM_SCHOOL_GROUP',
  'ROTATION_FORM_SCHOOL_DISTRICT',
];

export function SchoolRotations({ county, schoolId }: { county: string; schoolId: string }) {
  const year = currentSchoolYear();
  const [list, error, loading, reload] = useLoad(
    () => call<RotationPage>(`/v1/counties/${county}/rotations`, { query: { schoolId, schoolYear: year } }),
    [county, schoolId],
  );
  const [teachers] = useLoad(
    () => call<{ teachers: Array<{ teacherId: string; name: string }> }>(`/v1/counties/${county}/teachers`, { query: { schoolId, 'page.pageSize': 500 } }),
    [county, schoolId],
  );
  const [form, setForm] = useState({
    teacherId: '',
    receivingSchoolId: '',
    form: forms[1],
    startDate: today(),
    plannedEndDate: `${Number(today().slice(0, 4)) + 1}${today().slice(4)}`,
    note: '',
  });
  const [busy, setBusy] = useState(false);
  const [saveError, setSaveError] = useState<unknown>(null);
  const [saved, setSaved] = useState('');
  const input = (k: keyof typeof form) => (e: Event) => setForm({ ...form, [k]: (e.target as HTMLInputElement).value });

  async function propose(e: Event) {
    e.preventDefault();
    setBusy(true);
    setSaveError(null);
    setSaved('');
    try {
      const answer = await call<{ rotation: { state: string } }>('/v1/rotations', {
        body: { ...form, sendingSchoolId: schoolId, relationMoves: form.form === 'ROTATION_FORM_REGULAR_TRANSFER' },
        idempotencyKey: newRequestKey(),
      });
      setSaved(`已提出，状态：${label(answer.rotation.state)}，等待县教育局批准。`);
      reload();
    } catch (err) {
      setSaveError(err);
    } finally {
      setBusy(false);
    }
  }

  return (
    <section aria-labelledby="srot-h">
      <h2 id="srot-h">本校轮岗（{year} 学年）</h2>
      <ErrorBox error={error} />
      {loading && <Busy label="正在读取轮岗" />}
      {list && <RotationList rotations={list.rotations ?? []} schoolNames={list.schoolNames} />}
      <h3>提出轮岗</h3>
      <form class="form" onSubmit={propose}>
        <Field label="教师">
          <select value={form.teacherId} onChange={input('teacherId')} required>
            <option value="">请选择本校教师</option>
            {(teachers?.teachers ?? []).map((t) => (
              <option key={t.teacherId} value={t.teacherId}>
                {t.name}
              </option>
            ))}
          </select>
        </Field>
        <SchoolPicker county={county} value={form.receivingSchoolId} label="接收学校" onChange={(v) => setForm({ ...form, receivingSchoolId: v })} />
        <Field label="形式">
          <select value={form.form} onChange={input('form')}>
            {forms.map((f) => (
              <option key={f} value={f}>
                {label(f)}
              </option>
            ))}
          </select>
        </Field>
        <DateField label="开始日期" value={form.startDate} onValue={(v) => setForm({ ...form, startDate: v })} required />
        <DateField label="计划结束日期" value={form.plannedEndDate} min={form.startDate || undefined} onValue={(v) => setForm({ ...form, plannedEndDate: v })} required />
        <Field label="备注">
          <input value={form.note} onInput={input('note')} maxLength={200} />
        </Field>
        <button type="submit" disabled={busy}>
          提出
        </button>
      </form>
      <ErrorBox error={saveError} />
      {saved && (
        <p class="ok" role="status">
          {saved}
        </p>
      )}
    </section>
  );
}
