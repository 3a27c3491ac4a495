// Chinese names of enum values: the protos' own (gen/labels.ts, from their comments) first, then
// this table for the values whose comments carry none.
import { protoLabels } from './gen/labels';

const pageLabels: Record<string, string> = {
  TRAINING_STATUS_COMPLETE: '已达标',
  TRAINING_STATUS_ON_TRACK: '进度正常',
  TRAINING_STATUS_AT_RISK: '有风险',
  TRAINING_STATUS_BEHIND: '落后',
  COURSE_STATE_DRAFT: '草稿',
  COURSE_STATE_PUBLISHED: '报名中',
  COURSE_STATE_CLOSED: '已截止',
  TRAINING_RECORD_STATE_AWAITING_CONFIRMATION: '待机构确认',
  TRAINING_RECORD_STATE_AWAITING_REVIEW: '待审核',
  TRAINING_RECORD_STATE_CREDITED: '已计入',
  TRAINING_RECORD_STATE_REJECTED: '已驳回',
  COMPLETION_OUTCOME_CREDITED: '已计入',
  COMPLETION_OUTCOME_ALREADY_CREDITED: '此前已计入',
  COMPLETION_OUTCOME_REJECTED: '未计入',
  ROTATION_STATE_PROPOSED: '已提出',
  ROTATION_STATE_APPROVED: '已批准',
  ROTATION_STATE_REJECTED: '已驳回',
  ROTATION_STATE_STARTED: '进行中',
  ROTATION_STATE_COMPLETED: '已完成',
  ROTATION_STATE_CANCELLED: '已取消',
  COUNTING_REASON_COUNTS: '计入',
  COUNTING_REASON_NOT_APPROVED: '未获批准',
  COUNTING_REASON_CANCELLED: '已取消',
  COUNTING_REASON_WRONG_DIRECTION: '流向不符',
  COUNTING_REASON_TOO_SHORT: '时间不足',
  COUNTING_REASON_NOT_ELIGIBLE: '不在应交流范围',
  COUNTING_REASON_OTHER_SCHOOL_YEAR: '属于其他学年',
  COUNTING_REASON_FORM_NOT_COUNTED: '该形式不计入',
  TRAINING_ACTIVITY_COURSE: '培训课程',
  TIMELINE_ENTRY_KIND_EXTERNAL: '业务记录',
  TIMELINE_ENTRY_KIND_CORRECTION: '更正',
  PAIRING_ROLE_TEACHING: '教学导师',
  PAIRING_ROLE_SECOND: '第二导师',
  PAIRING_KIND_NEW_TEACHER: '新教师结对',
  PAIRING_KIND_URBAN_RURAL: '城乡结对',
  PAIRING_STATE_ACTIVE: '进行中',
  PAIRING_STATE_COMPLETED: '已完成',
  PAIRING_STATE_ENDED_EARLY: '提前结束',
  ACTIVITY_KIND_LESSON_OBSERVED: '听课',
  ACTIVITY_KIND_LESSON_COACHED: '评课指导',
  ACTIVITY_KIND_PUBLIC_LESSON: '公开课',
  ACTIVITY_KIND_GUIDANCE_SESSION: '指导谈话',
  ACTIVITY_KIND_TERM_EVALUATION: '学期考核',
  CYCLE_KIND_FIXED: '全县统一周期',
  CYCLE_KIND_PER_TEACHER: '按每位教师起点',
  ROTATION_BACKBONE_BASE_GREATER_OF_COUNTING_AND_REQUIRED: '实际交流与应交流人数中较大者',
  ROTATION_BACKBONE_BASE_COUNTING: '实际交流人数',
  ROTATION_BACKBONE_BASE_REQUIRED: '应交流人数',
  POLICY_LEVEL_NATIONAL: '国家',
  POLICY_LEVEL_PROVINCE: '省',
  POLICY_LEVEL_CITY: '市',
  POLICY_LEVEL_COUNTY: '县',
};

export const roleLabels: Record<string, string> = {
  teacher: '教师',
  school_admin: '学校管理员',
  county_hr: '县教育局人事',
  city_hr: '市教育局人事',
  province_hr: '省教育厅人事',
  training_center: '培训机构',
  admin: '系统管理员',
};

export function label(value: string | undefined | null): string {
  if (!value) return '—';
  return protoLabels[value] ?? pageLabels[value] ?? value;
}

export function hours(value: number | undefined): string {
  return `${(value ?? 0).toFixed(1).replace(/\.0$/, '')} 学时`;
}
