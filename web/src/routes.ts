// The menu per role: only what the role may call (the protos' roles decide; see
// tests/web/menus for the check against the API).
import type { Role } from './session';

export interface MenuItem {
  path: string;
  label: string;
}

const hr: MenuItem[] = [
  { path: '/hr/training', label: '培训达标' },
  { path: '/hr/rotation', label: '轮岗达标' },
  { path: '/hr/reviews', label: '自报审核' },
  { path: '/hr/mentorship', label: '师徒结对' },
  { path: '/hr/roster', label: '名册导入' },
  { path: '/hr/policy', label: '现行政策' },
  { path: '/hr/accounts', label: '账号管理' },
];

export const menus: Record<Role, MenuItem[]> = {
  county_hr: hr,
  city_hr: hr,
  province_hr: hr,
  admin: hr,
  school_admin: [
    { path: '/school/teachers', label: '本校教师培训' },
    { path: '/school/rotations', label: '本校轮岗' },
    { path: '/school/compliance', label: '本校轮岗达标' },
    { path: '/school/mentorship', label: '本校结对' },
    { path: '/school/policy', label: '现行政策' },
  ],
  teacher: [
    { path: '/me/file', label: '成长档案' },
    { path: '/me/training', label: '培训周期' },
    { path: '/me/log', label: '登记培训' },
    { path: '/me/rotations', label: '我的轮岗' },
    { path: '/me/mentorship', label: '我的结对' },
  ],
  training_center: [
    { path: '/centre/courses', label: '课程' },
    { path: '/centre/completions', label: '上传结业名单' },
  ],
};

export function menuFor(role: Role): MenuItem[] {
  return menus[role] ?? [];
}
