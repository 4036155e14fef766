/** The Chinese sentences and labels of 人人会唱 (learning progress). */
export const LEARNING_MESSAGES = {
  schoolNotFound: '学校不存在，或不在您的管辖范围内。',
  onlyOwnSchool: '只有学校本身可以上报本校的学唱进度。',
  closed: (deadline: string) => `学唱进度上报已于 ${deadline} 截止，如需补报请联系市教育局。`,
  noSchool: '您的账号没有关联学校，无法上报。',
  reminderNotReported: (deadline: string) => `请在 ${deadline} 前上报「人人会唱」学唱进度`,
  reminderBelow: (deadline: string) => `「人人会唱」学唱进度尚未达到 100%，请在 ${deadline} 前继续教唱并更新上报`,
  reminderBody: '全体教师要在 6 月底前学会 5 首指定歌曲，做到人人会唱、人人能唱；每个班级课前一歌。',
  todoReport: '上报「人人会唱」学唱进度',
  todoBelow: '学唱进度未达 100%，继续教唱并更新上报',
  todoCountyNotReported: '尚未上报学唱进度的学校',
} as const;

/** Field labels (also the XLSX headers). */
export const LEARNING_LABELS = {
  teachers: '教师总数',
  classes: '班级总数',
  teachersLearned: '会唱教师数',
  classesSinging: '课前一歌班级数',
  note: '说明',
  deadline: '上报截止日期',
  notReported: '未上报',
} as const;
